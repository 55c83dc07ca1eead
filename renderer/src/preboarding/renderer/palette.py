"""A readable colour palette derived from one brand colour.

Pure functions only. The slides and the welcome email both take their colours from ``derive_palette``:
whatever the brand colour, every text/background pair it returns has a WCAG 2.x contrast ratio of at
least 4.5:1 (AA for normal text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MIN_CONTRAST = 4.5

_HEX = re.compile(r"^#?([0-9A-Fa-f]{6})$")
_WHITE = "#FFFFFF"
_BLACK = "#000000"
# Neutral anchors the palette is tinted from: a slate-like ink and grey, as most design systems use.
_INK = "#0B1220"
_GREY = "#4B5563"
# Targets above the 4.5:1 floor so text stays readable on the faint decorative tints the slides draw
# over the background (a tint of at most ~8% darkens it by a factor well under 1.2).
_TEXT_TARGET = 12.0
_MUTED_TARGET = 5.5


def hex_to_rgb(hex_color: str) -> tuple[int, int, int]:
    """The (r, g, b) bytes of a ``"#RRGGBB"`` colour."""
    match = _HEX.match(hex_color.strip())
    if match is None:
        raise ValueError(f'colour {hex_color!r} is not of the form "#RRGGBB"')
    value = match.group(1)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: Sequence[float]) -> str:
    r, g, b = (max(0, min(255, round(c))) for c in rgb)
    return f"#{r:02X}{g:02X}{b:02X}"


def normalize_hex(hex_color: str) -> str:
    """``hex_color`` as upper-case ``"#RRGGBB"``; raises ``ValueError`` if it is not a 6-digit hex colour."""
    return _hex(hex_to_rgb(hex_color))


def mix(a_hex: str, b_hex: str, amount: float) -> str:
    """Blend ``amount`` (0..1) of colour ``b`` into colour ``a``, in sRGB."""
    a, b = hex_to_rgb(a_hex), hex_to_rgb(b_hex)
    return _hex([x + (y - x) * amount for x, y in zip(a, b, strict=True)])


def relative_luminance(hex_color: str) -> float:
    """WCAG 2.x relative luminance of a ``"#RRGGBB"`` colour, 0 (black) to 1 (white)."""

    def channel(byte: int) -> float:
        c = byte / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = hex_to_rgb(hex_color)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a_hex: str, b_hex: str) -> float:
    """WCAG 2.x contrast ratio of two colours, 1.0 (same) to 21.0 (black on white); order does not matter."""
    la, lb = relative_luminance(a_hex), relative_luminance(b_hex)
    lighter, darker = max(la, lb), min(la, lb)
    return (lighter + 0.05) / (darker + 0.05)


def ensure_contrast(fg_hex: str, backgrounds: tuple[str, ...], target: float = MIN_CONTRAST) -> str:
    """``fg_hex``, moved towards black or white just enough to reach ``target`` against every background.

    The backgrounds must all be light or all be dark (as in a palette); black or white is the limit.
    """
    if all(contrast_ratio(fg_hex, bg) >= target for bg in backgrounds):
        return normalize_hex(fg_hex)
    dark_backgrounds = sum(relative_luminance(bg) < 0.18 for bg in backgrounds) > len(backgrounds) / 2
    limit = _WHITE if dark_backgrounds else _BLACK
    for step in range(1, 21):
        candidate = mix(fg_hex, limit, step / 20)
        if all(contrast_ratio(candidate, bg) >= target for bg in backgrounds):
            return candidate
    return limit


@dataclass(frozen=True)
class Palette:
    """Colours of the slides and the email, all ``"#RRGGBB"``.

    ``text`` and ``muted_text`` are readable on ``background`` and ``surface``; ``on_accent`` is readable
    on ``accent`` (each at least 4.5:1).
    """

    background: str
    surface: str
    text: str
    muted_text: str
    accent: str
    on_accent: str


def derive_palette(brand_hex: str) -> Palette:
    """A light palette tinted by the brand colour, with the brand colour itself as the accent.

    Raises ``ValueError`` if ``brand_hex`` is not ``"#RRGGBB"``.
    """
    brand = normalize_hex(brand_hex)
    background = mix(_WHITE, brand, 0.04)
    surface = _WHITE
    light = (background, surface)
    text = ensure_contrast(mix(_INK, brand, 0.12), light, _TEXT_TARGET)
    muted_text = ensure_contrast(mix(_GREY, brand, 0.10), light, _MUTED_TARGET)
    # White on the accent when it reads (most brand colours), else the dark ink, else pure black. One of
    # white and black always reaches 4.5:1: their two ratios multiply to 21, so the larger is >= 4.58.
    # The accent therefore never has to move away from the brand colour.
    accent = brand
    on_accent = next(
        (c for c in (_WHITE, text, _BLACK) if contrast_ratio(c, accent) >= MIN_CONTRAST),
        _BLACK,
    )
    return Palette(
        background=background,
        surface=surface,
        text=text,
        muted_text=muted_text,
        accent=accent,
        on_accent=on_accent,
    )
