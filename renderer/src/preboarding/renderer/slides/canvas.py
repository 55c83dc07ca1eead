"""Drawing on the slides: geometry, colours, backdrop, logo, text blocks, boxes, cards, header and footer.

Each helper draws one element onto a ``PIL.ImageDraw`` (or the ``_Slide`` that holds it); the slide
layouts in ``layouts`` are composed of them. Nothing here writes files.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageStat

from preboarding.api.models import OnboardingVideoSpec
from preboarding.renderer.palette import Palette, contrast_ratio, hex_to_rgb, mix
from preboarding.renderer.slides.text import (
    Font,
    _font,
    _initials,
    clean_text,
    ellipsize,
    fit_text,
    font_path,
    line_height,
)

# The package's name, as before it was split into modules: log filters and dashboards key on it.
logger = logging.getLogger("preboarding.renderer.slides")

WIDTH, HEIGHT = 1920, 1080
MARGIN_X = 120
CONTENT_WIDTH = WIDTH - 2 * MARGIN_X
TOP_BAR = 14
PILL_HEIGHT = 46
KICKER_Y = 96
TITLE_Y = 172
CONTENT_TOP = 340
CONTENT_BOTTOM = 920
FOOTER_LINE_Y = 958
FOOTER_CENTER_Y = 1012
LOGO_BOX = (300, 84)
MAX_LOGO_PIXELS = 40_000_000


# --- logo -------------------------------------------------------------------------------------------


def read_logo(logo_bytes: bytes | None) -> Image.Image | None:
    """The logo as an RGBA image fitted to the slides' logo box, or None if absent or unreadable."""
    if not logo_bytes:
        return None
    try:
        with Image.open(io.BytesIO(logo_bytes)) as img:
            if img.width * img.height > MAX_LOGO_PIXELS:
                raise ValueError(f"{img.width}x{img.height} pixels is too large for a logo")
            img.draft("RGB", (LOGO_BOX[0] * 2, LOGO_BOX[1] * 2))  # JPEG: decode at a reduced scale
            logo = img.convert("RGBA")
    except Exception as exc:  # any undecodable upload must cost only the logo, never the slides
        logger.warning("ignoring the company logo, Pillow cannot read it: %s: %s", type(exc).__name__, exc)
        return None
    return _fit_logo(logo)


def _fit_logo(logo: Image.Image) -> Image.Image:
    logo = logo if logo.mode == "RGBA" else logo.convert("RGBA")
    scale = min(LOGO_BOX[0] / logo.width, LOGO_BOX[1] / logo.height)
    if abs(scale - 1) < 1e-3:
        return logo
    size = (max(1, round(logo.width * scale)), max(1, round(logo.height * scale)))
    return logo.resize(size, Image.Resampling.LANCZOS)


# --- drawing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    """The palette plus the non-text colours derived from it for shapes and lines."""

    palette: Palette
    border: str
    shadow: str
    tint: str
    graphic: str  # the accent for small shapes (bullets, dots), darkened if it vanishes on the background
    accent_edge: str | None  # outline for accent fills that would otherwise vanish on the background

    @classmethod
    def of(cls, palette: Palette) -> _Style:
        faint = contrast_ratio(palette.accent, palette.background) < 1.6
        graphic = mix(palette.accent, palette.text, 0.45) if faint else palette.accent
        return cls(
            palette=palette,
            border=mix(palette.background, palette.text, 0.12),
            shadow=mix(palette.background, palette.text, 0.06),
            tint=mix(palette.background, palette.accent, 0.08),
            graphic=graphic,
            accent_edge=graphic if faint else None,
        )


@lru_cache(maxsize=8)
def _backdrop(palette: Palette, hero: bool) -> Image.Image:
    """Background, gradient, decorative circles and top bar; cached per palette (copied per slide)."""
    style = _Style.of(palette)
    # A vertical gradient built as one column and stretched sideways: a fraction of the cost of a
    # full-size composite, which matters because each slides Job renders in a fresh process.
    top = Image.new("RGB", (1, HEIGHT), hex_to_rgb(palette.background))
    bottom = Image.new("RGB", (1, HEIGHT), hex_to_rgb(mix(palette.background, palette.accent, 0.05)))
    ramp = Image.linear_gradient("L").resize((1, HEIGHT), Image.Resampling.BILINEAR)
    img = Image.composite(bottom, top, ramp).resize((WIDTH, HEIGHT), Image.Resampling.NEAREST)
    # Faint circles: the tint differs from the background so little that their edges need no antialiasing.
    draw = ImageDraw.Draw(img)
    circles = [(1700, -160, 560), (1880, 760, 260)] if hero else [(1860, -260, 420)]
    for cx, cy, r in circles:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=style.tint)
    draw.rectangle((0, 0, WIDTH, TOP_BAR - 1), fill=palette.accent)
    if style.accent_edge:
        draw.line((0, TOP_BAR, WIDTH, TOP_BAR), fill=style.accent_edge, width=2)
    return img


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    x: float,
    y: float,
    lines: Sequence[str],
    font: Font,
    fill: str,
    *,
    center_width: float | None = None,
) -> int:
    """Draw ``lines`` top-down from (x, y); centred in ``center_width`` if given. Returns the height used."""
    step = line_height(font)
    for i, line in enumerate(lines):
        dx = (center_width - draw.textlength(line, font=font)) / 2 if center_width is not None else 0
        draw.text((x + dx, y + i * step), line, font=font, fill=fill)
    return step * len(lines)


def _text_block(
    draw: ImageDraw.ImageDraw,
    text: str,
    weight: str,
    box: tuple[float, float, float, float],
    max_size: int,
    min_size: int,
    fill: str,
    *,
    max_lines: int | None = None,
    center: bool = False,
    balance: bool = False,
) -> int:
    """Fit ``text`` into ``box`` (x, y, width, height) and draw it; returns the height used."""
    x, y, width, height = box
    font, lines = fit_text(
        draw, text, font_path(weight), width, height, max_size, min_size, max_lines=max_lines, balance=balance
    )
    return _draw_lines(draw, x, y, lines, font, fill, center_width=width if center else None)


def _ink_height(draw: ImageDraw.ImageDraw, text: str, font: Font) -> tuple[float, float]:
    """Top and bottom of the ink of ``text`` drawn at y=0 (for vertical centring in pills and circles)."""
    _, top, _, bottom = draw.textbbox((0, 0), text, font=font)
    return top, bottom


def _cap_middle(draw: ImageDraw.ImageDraw, font: Font) -> float:
    """Offset from the drawing y to the middle of the capital letters, to centre labels optically."""
    top, bottom = _ink_height(draw, "H", font)
    return (top + bottom) / 2


def _accent_box(
    draw: ImageDraw.ImageDraw, style: _Style, box: tuple[float, float, float, float], radius: float
) -> None:
    """A rounded box filled with the accent (pills, chips, tiles, day heads), outlined if it would vanish."""
    edge = style.accent_edge
    draw.rounded_rectangle(box, radius=radius, fill=style.palette.accent, outline=edge, width=2 if edge else 0)


def _pill(
    draw: ImageDraw.ImageDraw, style: _Style, x: float, y: float, text: str, *, max_width: float, centered: bool = False
) -> float:
    """The upper-case kicker label on the accent at (x, y), or centred on x; returns its width."""
    font = _font("semibold", 22)
    pad_x = 20
    label = ellipsize(draw, clean_text(text).upper(), font, max_width - 2 * pad_x)
    width = draw.textlength(label, font=font) + 2 * pad_x
    if centered:
        x -= width / 2
    _accent_box(draw, style, (x, y, x + width, y + PILL_HEIGHT), radius=PILL_HEIGHT // 2)
    text_y = y + PILL_HEIGHT / 2 - _cap_middle(draw, font)
    draw.text((x + pad_x, text_y), label, font=font, fill=style.palette.on_accent)
    return width


def _card(draw: ImageDraw.ImageDraw, style: _Style, box: tuple[float, float, float, float], radius: int = 24) -> None:
    """A surface-coloured panel with a border and a soft shadow below it."""
    x0, y0, x1, y1 = box
    draw.rounded_rectangle((x0, y0 + 6, x1, y1 + 6), radius=radius, fill=style.shadow)
    draw.rounded_rectangle(box, radius=radius, fill=style.palette.surface, outline=style.border, width=2)


def _avatar(draw: ImageDraw.ImageDraw, style: _Style, cx: float, cy: float, diameter: int, name: str) -> None:
    """A circle on the accent centred on (cx, cy) with the initials of ``name``."""
    p = style.palette
    r = diameter / 2
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=p.accent, outline=style.accent_edge, width=3)
    initials = _initials(name)
    font, lines = fit_text(draw, initials, font_path("bold"), diameter * 0.7, diameter * 0.6, diameter // 2 - 8, 12)
    text = lines[0] if lines else "•"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text((cx - (left + right) / 2, cy - (top + bottom) / 2), text, font=font, fill=p.on_accent)


# --- the slide and its chrome (header, logo, footer) ------------------------------------------------


@dataclass
class _Slide:
    """One slide being drawn: its spec, colours, image and the ``ImageDraw`` on that image."""

    spec: OnboardingVideoSpec
    style: _Style
    image: Image.Image
    draw: ImageDraw.ImageDraw

    @property
    def palette(self) -> Palette:
        return self.style.palette


def _header(s: _Slide, kicker: str, title: str, logo: Image.Image | None) -> int:
    """Kicker pill, logo and one-line title; returns the y below the title."""
    p = s.palette
    logo_width = 0
    if logo is not None:
        logo_width = _place_logo(s, logo)
    _pill(s.draw, s.style, MARGIN_X, KICKER_Y, kicker, max_width=CONTENT_WIDTH - logo_width - 40)
    used = _text_block(s.draw, title, "display", (MARGIN_X, TITLE_Y, CONTENT_WIDTH, 110), 80, 44, p.text, max_lines=1)
    return TITLE_Y + used


def _place_logo(s: _Slide, logo: Image.Image) -> int:
    """Paste the logo top right, on a dark plate if it would vanish on the light background."""
    logo = _fit_logo(logo)
    x = WIDTH - MARGIN_X - logo.width
    y = KICKER_Y + 23 - logo.height // 2
    alpha = logo.getchannel("A")
    if alpha.getbbox() is not None:
        mean = ImageStat.Stat(logo.convert("L"), mask=alpha).mean[0]
        if mean > 215:  # a white or very light logo: give it a plate in the text colour
            pad = 14
            s.draw.rounded_rectangle(
                (x - pad, y - pad, x + logo.width + pad, y + logo.height + pad), radius=16, fill=s.palette.text
            )
    s.image.paste(logo, (x, y), alpha)
    return logo.width


def _footer(s: _Slide, section: str, sections: Sequence[str]) -> None:
    """Divider, company name and one dot per slide, the current one in the accent colour."""
    p = s.palette
    s.draw.line((MARGIN_X, FOOTER_LINE_Y, WIDTH - MARGIN_X, FOOTER_LINE_Y), fill=s.style.border, width=2)
    dot_r, dot_gap = 7, 26
    dots_width = dot_gap * (len(sections) - 1) + 2 * dot_r
    square = 16
    s.draw.rounded_rectangle(
        (MARGIN_X, FOOTER_CENTER_Y - square // 2, MARGIN_X + square, FOOTER_CENTER_Y + square // 2),
        radius=4,
        fill=s.style.graphic,
    )
    name_x = MARGIN_X + square + 18
    font, lines = fit_text(
        s.draw,
        s.spec.company.name,
        font_path("semibold"),
        CONTENT_WIDTH - dots_width - 80 - square,
        40,
        28,
        18,
        max_lines=1,
    )
    top, bottom = _ink_height(s.draw, "Hg", font)
    _draw_lines(s.draw, name_x, FOOTER_CENTER_Y - (top + bottom) / 2, lines, font, p.text)
    x = WIDTH - MARGIN_X - dots_width + dot_r
    for name in sections:
        current = name == section
        r = dot_r if current else dot_r - 2
        s.draw.ellipse(
            (x - r, FOOTER_CENTER_Y - r, x + r, FOOTER_CENTER_Y + r),
            fill=s.style.graphic if current else s.style.border,
        )
        x += dot_gap
