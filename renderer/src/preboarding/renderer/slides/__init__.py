"""The slides of the welcome video: one 1920x1080 PNG per section of the dialogue.

The layout is pure (spec in, ``PIL.Image`` out); only ``render_slides`` writes files. Every piece of text
goes through ``fit_text``, which wraps, shrinks and as a last resort ellipsizes it into its box, so no
spec the API accepts (200-character names, 7 days x 12 items, 30 tools) can overflow a slide.

The package is layered, each module importing only those above it in this list: ``text`` (fonts,
fitting, wrapping), ``canvas`` (geometry, drawing primitives, header and footer), ``layouts`` (one
function per slide) and this module (the public API, re-exporting the names other code imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from preboarding.api.models import OnboardingVideoSpec
from preboarding.renderer.palette import derive_palette
from preboarding.renderer.script import SECTIONS, script_sections
from preboarding.renderer.slides.canvas import (
    CONTENT_BOTTOM,
    CONTENT_TOP,
    CONTENT_WIDTH,
    FOOTER_CENTER_Y,
    FOOTER_LINE_Y,
    HEIGHT,
    KICKER_Y,
    LOGO_BOX,
    MARGIN_X,
    MAX_LOGO_PIXELS,
    PILL_HEIGHT,
    TITLE_Y,
    TOP_BAR,
    WIDTH,
    _backdrop,
    _footer,
    _Slide,
    _Style,
    read_logo,
)
from preboarding.renderer.slides.layouts import _RENDERERS
from preboarding.renderer.slides.text import (
    ELLIPSIS,
    LINE_SPACING,
    Font,
    clean_text,
    ellipsize,
    fit_text,
    font_path,
    line_height,
    load_font,
    wrap_text,
)

__all__ = [
    "CONTENT_BOTTOM",
    "CONTENT_TOP",
    "CONTENT_WIDTH",
    "ELLIPSIS",
    "FOOTER_CENTER_Y",
    "FOOTER_LINE_Y",
    "HEIGHT",
    "KICKER_Y",
    "LINE_SPACING",
    "LOGO_BOX",
    "MARGIN_X",
    "MAX_LOGO_PIXELS",
    "PILL_HEIGHT",
    "SLIDE_SECTIONS",
    "TITLE_Y",
    "TOP_BAR",
    "WIDTH",
    "Font",
    "RenderedSlide",
    "clean_text",
    "derive_palette",
    "ellipsize",
    "fit_text",
    "font_path",
    "line_height",
    "load_font",
    "read_logo",
    "render_slide",
    "render_slides",
    "slide_sections",
    "wrap_text",
]

SLIDE_SECTIONS: tuple[str, ...] = SECTIONS


def slide_sections(spec: OnboardingVideoSpec) -> list[str]:
    """The sections that get a slide for this spec: the script's sections, one slide each."""
    return list(script_sections(spec))


def render_slide(section: str, spec: OnboardingVideoSpec, *, logo: Image.Image | None = None) -> Image.Image:
    """The 1920x1080 RGB slide for ``section`` of ``spec``.

    Raises ``ValueError`` for an unknown section or one ``slide_sections`` leaves out for this spec.
    """
    sections = slide_sections(spec)
    if section not in SLIDE_SECTIONS:
        raise ValueError(f"unknown slide section {section!r}; expected one of {', '.join(SLIDE_SECTIONS)}")
    if section not in sections:
        raise ValueError(f"spec has nothing to show on the {section!r} slide")
    palette = derive_palette(spec.company.brand_color)
    image = _backdrop(palette, section in ("welcome", "farewell")).copy()
    slide = _Slide(spec=spec, style=_Style.of(palette), image=image, draw=ImageDraw.Draw(image))
    _RENDERERS[section](slide, logo)
    _footer(slide, section, sections)
    return image


@dataclass(frozen=True)
class RenderedSlide:
    """One slide written to disk, and the script section it is shown for."""

    section: str
    path: Path


def render_slides(spec: OnboardingVideoSpec, out_dir: Path, *, logo_bytes: bytes | None = None) -> list[RenderedSlide]:
    """Render every slide of ``spec`` as ``out_dir/NN-<section>.png`` (NN from 01), in showing order.

    Logo bytes Pillow cannot read are ignored with a warning; the slides are rendered without a logo.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    logo = read_logo(logo_bytes)
    slides = []
    for i, section in enumerate(slide_sections(spec), start=1):
        path = out_dir / f"{i:02d}-{section}.png"
        render_slide(section, spec, logo=logo).save(path, format="PNG", compress_level=1)
        slides.append(RenderedSlide(section, path))
    return slides
