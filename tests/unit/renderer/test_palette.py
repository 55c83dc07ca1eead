"""The palette derived from a brand colour is readable for every brand colour."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preboarding.renderer.palette import (
    MIN_CONTRAST,
    Palette,
    contrast_ratio,
    derive_palette,
    relative_luminance,
)

hex_colors = st.integers(min_value=0, max_value=0xFFFFFF).map(lambda v: f"#{v:06X}")
HEX_FIELDS = ("background", "surface", "text", "muted_text", "accent", "on_accent")


def _assert_readable(palette: Palette) -> None:
    pairs = [
        (palette.text, palette.background),
        (palette.muted_text, palette.background),
        (palette.text, palette.surface),
        (palette.muted_text, palette.surface),
        (palette.on_accent, palette.accent),
    ]
    for fg, bg in pairs:
        assert contrast_ratio(fg, bg) >= MIN_CONTRAST, (fg, bg, palette)


def test_luminance_and_contrast_match_wcag_reference_values() -> None:
    assert relative_luminance("#000000") == 0
    assert relative_luminance("#FFFFFF") == pytest.approx(1)
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21)
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1)
    # WebAIM's checker: #767676 on white is the lightest grey that passes AA (4.54:1), #777777 fails (4.48:1).
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert relative_luminance("#ff0000") == pytest.approx(0.2126)


@pytest.mark.parametrize(
    "brand", ["#FFFF00", "#FFFFFF", "#000000", "#777777", "#767676", "#0F766E", "#2563EB", "#00FFFF", "#FF00FF"]
)
def test_known_hard_brand_colours_are_readable(brand: str) -> None:
    _assert_readable(derive_palette(brand))


@given(hex_colors)
def test_every_brand_colour_gives_a_readable_palette(brand: str) -> None:
    palette = derive_palette(brand)
    _assert_readable(palette)
    for field in HEX_FIELDS:
        value = getattr(palette, field)
        assert len(value) == 7 and value.startswith("#") and value[1:] == value[1:].upper(), (field, value)


@given(hex_colors)
def test_accent_is_the_brand_colour(brand: str) -> None:
    assert derive_palette(brand.lower()).accent == brand


def test_yellow_gets_dark_text_on_the_accent_and_blue_gets_white() -> None:
    assert relative_luminance(derive_palette("#FFFF00").on_accent) < 0.05
    assert derive_palette("#2563EB").on_accent == "#FFFFFF"


@pytest.mark.parametrize("bad", ["red", "#FFF", "#GGGGGG", "", "#1234567"])
def test_a_malformed_brand_colour_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="RRGGBB"):
        derive_palette(bad)
