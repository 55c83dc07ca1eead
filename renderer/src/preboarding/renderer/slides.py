"""The slides of the welcome video: one 1920x1080 PNG per section of the dialogue.

The layout is pure (spec in, ``PIL.Image`` out); only ``render_slides`` writes files. Every piece of text
goes through ``fit_text``, which wraps, shrinks and as a last resort ellipsizes it into its box, so no
spec the API accepts (200-character names, 7 days x 12 items, 30 tools) can overflow a slide.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageStat

from preboarding.api.models import OnboardingVideoSpec
from preboarding.renderer.palette import Palette, contrast_ratio, derive_palette, hex_to_rgb, mix
from preboarding.renderer.script import SECTIONS, first_name, script_sections

logger = logging.getLogger(__name__)

SLIDE_SECTIONS: tuple[str, ...] = SECTIONS
WIDTH, HEIGHT = 1920, 1080

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# Debian paths: fonts-inter first, fonts-dejavu-core as the fallback; Pillow's built-in font if neither.
_INTER = "/usr/share/fonts/opentype/inter"
_DEJAVU = "/usr/share/fonts/truetype/dejavu"
_FONT_FILES: dict[str, tuple[str, ...]] = {
    "regular": (f"{_INTER}/Inter-Regular.otf", f"{_DEJAVU}/DejaVuSans.ttf"),
    "medium": (f"{_INTER}/Inter-Medium.otf", f"{_DEJAVU}/DejaVuSans.ttf"),
    "semibold": (f"{_INTER}/Inter-SemiBold.otf", f"{_DEJAVU}/DejaVuSans-Bold.ttf"),
    "bold": (f"{_INTER}/Inter-Bold.otf", f"{_DEJAVU}/DejaVuSans-Bold.ttf"),
    "display": (f"{_INTER}/InterDisplay-Bold.otf", f"{_INTER}/Inter-Bold.otf", f"{_DEJAVU}/DejaVuSans-Bold.ttf"),
}
LINE_SPACING = 1.25
ELLIPSIS = "…"
NBSP = "\u00a0"
# Lines break at whitespace except no-break spaces (str.split() would break at those too).
_BREAKS = re.compile(r"[^\S\u00a0\u202f\u2007]+")

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

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# --- fonts and text -----------------------------------------------------------------------------------


@cache
def font_path(weight: str) -> str | None:
    """Path of the first installed font file for ``weight`` (regular, medium, semibold, bold, display)."""
    return next((p for p in _FONT_FILES[weight] if Path(p).is_file()), None)


@lru_cache(maxsize=512)
def load_font(path: str | None, size: int) -> Font:
    """The font at ``path`` in ``size`` px, or Pillow's built-in font if ``path`` is None or unreadable."""
    if path is not None:
        try:
            # The basic layout engine is ~5x faster than Raqm at measuring and still kerns; the fonts we
            # ship cover Latin, Greek and Cyrillic, which need no complex shaping.
            return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
        except OSError as exc:
            logger.warning("cannot load font %s, using the built-in font: %s", path, exc)
    return ImageFont.load_default(size)


def _font(weight: str, size: int) -> Font:
    return load_font(font_path(weight), size)


@lru_cache(maxsize=65536)
def _width(font: Font, text: str) -> float:
    # Word widths repeat across the sizes fit_text tries and across slides; caching them keeps fitting cheap.
    return float(font.getlength(text))


def line_height(font: Font) -> int:
    """Distance between baselines of wrapped lines, never less than the font's ascent plus descent."""
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return max(round(font.size * LINE_SPACING), ascent + descent)
    top, bottom = font.getbbox("Ag")[1::2]
    return math.ceil((bottom - top) * LINE_SPACING) + 1


@lru_cache(maxsize=4096)
def clean_text(text: str) -> str:
    """``text`` with control characters as spaces and lone surrogates replaced, safe to shape and draw."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    if text.isascii() and text.isprintable():
        return text
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)


@lru_cache(maxsize=4096)
def _break_word(font: Font, word: str, width: float) -> tuple[str, ...]:
    """A word too wide for one line, cut into pieces that each fit (at least one character per piece)."""
    pieces: list[str] = []
    rest = word
    while rest:
        # Guess the cut from cached per-character advances, then correct it with exact measurements
        # (kerning makes the sum differ by a pixel or two): a few measurements per piece, not a search.
        total, k = 0.0, 0
        while k < len(rest) and total + _width(font, rest[k]) <= width:
            total += _width(font, rest[k])
            k += 1
        k = max(k, 1)
        while k > 1 and font.getlength(rest[:k]) > width:
            k -= 1
        while k < len(rest) and font.getlength(rest[: k + 1]) <= width:
            k += 1
        pieces.append(rest[:k])
        rest = rest[k:]
    return tuple(pieces)


def wrap_text(draw: ImageDraw.ImageDraw, text: str, font: Font, width: float) -> list[str]:
    """Greedy word wrap of ``text`` into lines no wider than ``width`` px; over-long words are cut."""
    return list(_wrap(font, text, width))


@lru_cache(maxsize=8192)
def _wrap(font: Font, text: str, width: float) -> tuple[str, ...]:
    space = _width(font, " ")
    lines: list[str] = []
    estimates: list[float] = []
    current, current_width = "", 0.0
    for word in _BREAKS.split(clean_text(text)):
        if not word:
            continue
        word_width = _width(font, word)
        if word_width > width:
            if current:
                lines.append(current)
                estimates.append(current_width)
            *full, current = _break_word(font, word, width)
            lines.extend(full)
            estimates.extend([0.0] * len(full))  # measured exactly when cut
            current_width = _width(font, current)
        elif not current:
            current, current_width = word, word_width
        elif current_width + space + word_width <= width:
            current, current_width = f"{current} {word}", current_width + space + word_width
        else:
            lines.append(current)
            estimates.append(current_width)
            current, current_width = word, word_width
    if current:
        lines.append(current)
        estimates.append(current_width)
    # Widths were summed per word; kerning across word joins can shift a line by a pixel or two, so lines
    # that end near the edge are measured exactly, and a line that is over pushes its last word down.
    slack = 0.2 * font.size if isinstance(font, ImageFont.FreeTypeFont) else 4.0
    check = [estimate > width - slack for estimate in estimates]
    i = 0
    while i < len(lines):
        line = lines[i]
        if check[i] and " " in line and font.getlength(line) > width:
            head, last = line.rsplit(" ", 1)
            lines[i] = head
            if i + 1 < len(lines):
                lines[i + 1] = f"{last} {lines[i + 1]}"
                check[i + 1] = True
            else:
                lines.append(last)
                check.append(False)
            continue
        i += 1
    return tuple(lines)


def ellipsize(draw: ImageDraw.ImageDraw, text: str, font: Font, width: float, *, force: bool = False) -> str:
    """``text`` cut at the end with "…" so it fits ``width`` px; ``force`` adds the "…" even if it fits."""
    if not force and draw.textlength(text, font=font) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits together with the ellipsis
        mid = (lo + hi + 1) // 2
        if draw.textlength(text[:mid].rstrip() + ELLIPSIS, font=font) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS


def fit_text(
    draw: ImageDraw.ImageDraw,
    text: str,
    font_path: str | None,
    box_width: float,
    box_height: float,
    max_size: int,
    min_size: int,
    *,
    max_lines: int | None = None,
    balance: bool = False,
) -> tuple[Font, list[str]]:
    """The largest font (``max_size`` down to ``min_size``) at which ``text`` wraps into the box, and its lines.

    If even ``min_size`` is too big, the lines that fit are kept and the last one ends in "…". Every
    returned line measures at most ``box_width`` px, and ``len(lines) * line_height(font)`` is at most
    ``box_height`` (at least one line is always returned for non-blank text). ``max_lines`` caps the
    number of lines; ``balance`` evens out line lengths (no lone last word) without adding a line.
    """
    min_size = max(1, min(min_size, max_size))

    def attempt(size: int) -> tuple[Font, list[str], int]:
        font = load_font(font_path, size)
        limit = max(1, int(box_height // line_height(font)))
        if max_lines is not None:
            limit = max(1, min(limit, max_lines))
        return font, wrap_text(draw, text, font, box_width), limit

    font, lines, limit = attempt(max_size)
    if len(lines) <= limit:
        return font, _balanced(draw, text, font, box_width, lines) if balance else lines
    best: tuple[Font, list[str]] | None = None
    lo, hi = min_size, max_size - 1
    while lo <= hi:  # fit is monotonic in size, so binary-search the largest size that fits
        mid = (lo + hi) // 2
        font, lines, limit = attempt(mid)
        if len(lines) <= limit:
            best = font, lines
            lo = mid + 1
        else:
            hi = mid - 1
    if best is not None:
        font, lines = best
        return font, _balanced(draw, text, font, box_width, lines) if balance else lines
    font, lines, limit = attempt(min_size)
    kept = lines[:limit]
    kept[-1] = ellipsize(draw, kept[-1], font, box_width, force=True)
    return font, kept


def _balanced(draw: ImageDraw.ImageDraw, text: str, font: Font, width: float, lines: list[str]) -> list[str]:
    """``text`` wrapped at the narrowest width that still gives ``len(lines)`` lines."""
    if len(lines) < 2:
        return lines
    lo, hi = int(width / len(lines)), int(width)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(wrap_text(draw, text, font, mid)) <= len(lines):
            hi = mid
        else:
            lo = mid + 1
    return wrap_text(draw, text, font, hi)


def spell_date(day: dt.date) -> str:
    """``day`` spelled out in English, e.g. "Monday, 7 December 2026" (independent of the locale)."""
    return f"{_WEEKDAYS[day.weekday()]}, {day.day} {_MONTHS[day.month - 1]} {day.year}"


def _unbroken_date(day: dt.date) -> str:
    """``spell_date`` that may wrap after the weekday but never inside "7 December 2026"."""
    weekday, rest = spell_date(day).split(" ", 1)
    return f"{weekday} {rest.replace(' ', NBSP)}"


def _initials(name: str) -> str:
    letters = [next((ch for ch in word if ch.isalnum()), "") for word in clean_text(name).split()]
    letters = [ch for ch in letters if ch]
    if not letters:
        return "•"
    return (letters[0] + letters[-1] if len(letters) > 1 else letters[0]).upper()


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
    edge = style.accent_edge
    draw.rounded_rectangle(
        (x, y, x + width, y + PILL_HEIGHT),
        radius=PILL_HEIGHT // 2,
        fill=style.palette.accent,
        outline=edge,
        width=2 if edge else 0,
    )
    text_y = y + PILL_HEIGHT / 2 - _cap_middle(draw, font)
    draw.text((x + pad_x, text_y), label, font=font, fill=style.palette.on_accent)
    return width


def _card(draw: ImageDraw.ImageDraw, style: _Style, box: tuple[float, float, float, float], radius: int = 24) -> None:
    x0, y0, x1, y1 = box
    draw.rounded_rectangle((x0, y0 + 6, x1, y1 + 6), radius=radius, fill=style.shadow)
    draw.rounded_rectangle(box, radius=radius, fill=style.palette.surface, outline=style.border, width=2)


def _avatar(draw: ImageDraw.ImageDraw, style: _Style, cx: float, cy: float, diameter: int, name: str) -> None:
    p = style.palette
    r = diameter / 2
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=p.accent, outline=style.accent_edge, width=3)
    initials = _initials(name)
    font, lines = fit_text(draw, initials, font_path("bold"), diameter * 0.7, diameter * 0.6, diameter // 2 - 8, 12)
    text = lines[0] if lines else "•"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text((cx - (left + right) / 2, cy - (top + bottom) / 2), text, font=font, fill=p.on_accent)


@dataclass
class _Slide:
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


# --- the five slides --------------------------------------------------------------------------------


def _welcome(s: _Slide, logo: Image.Image | None) -> None:
    p, e = s.palette, s.spec.employee
    logo_width = _place_logo(s, logo) if logo is not None else 0
    cards_top = 690
    title = f"Welcome to {s.spec.company.name}, {e.name}!"
    gaps = (40, 20)
    role_font, role_lines = fit_text(s.draw, e.role, font_path("medium"), CONTENT_WIDTH, 120, 48, 26, balance=True)
    role_h = line_height(role_font) * len(role_lines)
    title_room = cards_top - 40 - (KICKER_Y + PILL_HEIGHT + gaps[0]) - gaps[1] - role_h
    title_font, title_lines = fit_text(
        s.draw, title, font_path("display"), CONTENT_WIDTH, title_room, 104, 40, balance=True
    )
    block = (
        PILL_HEIGHT
        + gaps[0]
        + line_height(title_font) * len(title_lines)
        + gaps[1]
        + line_height(role_font) * len(role_lines)
    )
    # The kicker, title and role sit centred in the space above the cards, but never above the kicker row.
    y = max(KICKER_Y, TOP_BAR + (cards_top - TOP_BAR - block) / 2)
    _pill(s.draw, s.style, MARGIN_X, y, "Welcome aboard", max_width=CONTENT_WIDTH - logo_width - 40)
    y += PILL_HEIGHT + gaps[0]
    y += _draw_lines(s.draw, MARGIN_X, y, title_lines, title_font, p.text) + gaps[1]
    _draw_lines(s.draw, MARGIN_X, y, role_lines, role_font, p.muted_text)
    facts = [("First day", _unbroken_date(e.start_date))]
    if e.location:
        facts.append(("Location", e.location))
    if e.team:
        facts.append(("Team", e.team))
    _fact_cards(s, facts, cards_top, CONTENT_BOTTOM - 10)


def _fact_cards(s: _Slide, facts: Sequence[tuple[str, str]], top: int, bottom: int) -> None:
    p, gap = s.palette, 32
    width = (CONTENT_WIDTH - gap * 2) / 3
    pad = 40
    for i, (label, value) in enumerate(facts):
        x = MARGIN_X + i * (width + gap)
        _card(s.draw, s.style, (x, top, x + width, bottom))
        s.draw.rounded_rectangle((x + pad, top + pad, x + pad + 44, top + pad + 8), radius=4, fill=s.style.graphic)
        label_box = (x + pad, top + pad + 26, width - 2 * pad, 34)
        _text_block(s.draw, label.upper(), "semibold", label_box, 22, 16, p.muted_text, max_lines=1)
        value_top = top + pad + 70
        _text_block(
            s.draw, value, "bold", (x + pad, value_top, width - 2 * pad, bottom - pad + 8 - value_top), 38, 22, p.text
        )


def _team(s: _Slide, logo: Image.Image | None) -> None:
    p, e = s.palette, s.spec.employee
    y = _header(s, "Your people", "Meet your team", logo)
    if e.team:
        _text_block(
            s.draw,
            f"You're joining {e.team}.",
            "medium",
            (MARGIN_X, y + 14, CONTENT_WIDTH, 56),
            36,
            22,
            p.muted_text,
            max_lines=1,
        )
    people = [
        (label, name, note)
        for label, name, note in (
            ("Team", e.team, "Your new home"),
            ("Manager", e.manager, "Your manager"),
            ("Onboarding buddy", e.buddy, "Your go-to person for questions"),
        )
        if name
    ]
    gap, top, pad, avatar = 40, CONTENT_TOP + 70, 44, 136
    width = (CONTENT_WIDTH - gap * 2) / 3
    inner = width - 2 * pad
    label_h, note_h = 44, 44
    name_top = pad + avatar + 32 + label_h
    name_room = CONTENT_BOTTOM - 10 - top - name_top - 12 - note_h - pad
    names = [_fit_name(s.draw, name, inner, name_room) for _, name, _ in people]
    # All cards as tall as the tallest: the name block is as tall as the longest name needs.
    name_h = max(line_height(font) * len(lines) for font, lines in names)
    bottom = top + name_top + name_h + 12 + note_h + pad
    for i, ((label, name, note), (font, lines)) in enumerate(zip(people, names, strict=True)):
        x = MARGIN_X + i * (width + gap)
        _card(s.draw, s.style, (x, top, x + width, bottom))
        _avatar(s.draw, s.style, x + pad + avatar / 2, top + pad + avatar / 2, avatar, name)
        y = top + pad + avatar + 32
        _text_block(s.draw, label.upper(), "semibold", (x + pad, y, inner, 34), 22, 16, p.muted_text, max_lines=1)
        _draw_lines(s.draw, x + pad, top + name_top, lines, font, p.text)
        _text_block(
            s.draw,
            note,
            "regular",
            (x + pad, top + name_top + name_h + 12, inner, note_h),
            28,
            16,
            p.muted_text,
            max_lines=1,
        )


def _fit_name(draw: ImageDraw.ImageDraw, name: str, width: float, height: float) -> tuple[Font, list[str]]:
    """A name on one line if a slightly smaller font allows it, else wrapped (and shrunk) into the box."""
    font, lines = fit_text(draw, name, font_path("bold"), width, height, 48, 38, max_lines=1)
    if lines and lines[0] == " ".join(clean_text(name).split()):
        return font, lines
    return fit_text(draw, name, font_path("bold"), width, height, 48, 22, balance=True)


def _week(s: _Slide, logo: Image.Image | None) -> None:
    p, days = s.palette, s.spec.employee.schedule
    _header(s, "Week one", "Your first week", logo)
    gap, head_h, top, bottom = 20, 64, CONTENT_TOP - 10, CONTENT_BOTTOM
    width = min(520.0, (CONTENT_WIDTH - gap * (len(days) - 1)) / len(days))
    pad, bullet_room = 22, 22
    text_width = width - 2 * pad - bullet_room
    body_top = top + head_h + 12
    body_height = bottom - body_top - 2 * pad
    columns = _fit_schedule(s.draw, [day.items for day in days], text_width, body_height)
    font, item_gap = columns.font, columns.item_gap
    step = line_height(font)
    dot = max(4, round(font.size * 0.2)) if isinstance(font, ImageFont.FreeTypeFont) else 4
    for i, (day, items) in enumerate(zip(days, columns.items, strict=True)):
        x = MARGIN_X + i * (width + gap)
        s.draw.rounded_rectangle(
            (x, top, x + width, top + head_h),
            radius=16,
            fill=p.accent,
            outline=s.style.accent_edge,
            width=2 if s.style.accent_edge else 0,
        )
        head_font, head_lines = fit_text(s.draw, day.day, font_path("bold"), width - 2 * pad, 44, 30, 14, max_lines=1)
        _draw_lines(
            s.draw, x + pad, top + head_h / 2 - _cap_middle(s.draw, head_font), head_lines, head_font, p.on_accent
        )
        _card(s.draw, s.style, (x, body_top, x + width, bottom), radius=16)
        y = body_top + pad
        ink_top, ink_bottom = _ink_height(s.draw, "x", font)
        for lines in items:
            cy = y + (ink_top + ink_bottom) / 2
            s.draw.ellipse((x + pad, cy - dot / 2, x + pad + dot, cy + dot / 2), fill=s.style.graphic)
            _draw_lines(s.draw, x + pad + bullet_room, y, lines, font, p.text)
            y += step * len(lines) + item_gap


@dataclass(frozen=True)
class _Columns:
    font: Font
    item_gap: int
    items: list[list[list[str]]]  # per day, per item, its lines


def _fit_schedule(draw: ImageDraw.ImageDraw, days: Sequence[Sequence[str]], width: float, height: float) -> _Columns:
    """One font size for all days: the largest at which every day's items wrap into the column.

    At the smallest size, the longest items lose lines (ending in "…") until each column fits; if even
    one line per item is too much, the last items are replaced by "+N more".
    """
    path = font_path("regular")
    max_size, min_size = 30, 15

    def layout(size: int) -> tuple[Font, int, list[list[list[str]]], bool]:
        font = load_font(path, size)
        gap = round(size * 0.55)
        step = line_height(font)
        wrapped = [[wrap_text(draw, item, font, width) for item in items] for items in days]
        fits = all(sum(len(lines) for lines in col) * step + gap * (len(col) - 1) <= height for col in wrapped)
        return font, gap, wrapped, fits

    font, gap, wrapped, fits = layout(max_size)
    if fits:
        return _Columns(font, gap, wrapped)
    best = None
    lo, hi = min_size, max_size - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = layout(mid)
        if candidate[3]:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    if best is not None:
        return _Columns(best[0], best[1], best[2])
    font, gap, wrapped, _ = layout(min_size)
    step = line_height(font)
    return _Columns(font, gap, [_truncate_column(draw, col, font, width, height, step, gap) for col in wrapped])


def _truncate_column(
    draw: ImageDraw.ImageDraw, col: list[list[str]], font: Font, width: float, height: float, step: int, gap: int
) -> list[list[str]]:
    def total(c: list[list[str]]) -> int:
        return sum(len(lines) for lines in c) * step + gap * (len(c) - 1)

    col = [list(lines) for lines in col]
    cut = [False] * len(col)
    while total(col) > height and max(len(lines) for lines in col) > 1:
        longest = max(range(len(col)), key=lambda k: len(col[k]))
        col[longest].pop()
        cut[longest] = True
    for k, lines in enumerate(col):
        if cut[k]:
            lines[-1] = ellipsize(draw, lines[-1], font, width, force=True)
    if total(col) > height:
        keep = max(1, int((height + gap) // (step + gap)) - 1)
        col = [*col[:keep], [f"+{len(col) - keep} more"]]
    return col


def _stack(s: _Slide, logo: Image.Image | None) -> None:
    tools = [clean_text(t) for t in s.spec.employee.tech_stack]
    _header(s, "Tools", "Your tech stack", logo)
    top, height = CONTENT_TOP + 10, CONTENT_BOTTOM - CONTENT_TOP - 10
    if len(tools) <= 12:
        _monogram_tiles(s, tools, top, height)
        return
    for size in range(40, 19, -2):
        placed = _flow_chips(s.draw, tools, size, CONTENT_WIDTH, height)
        if placed is not None:
            font = _font("semibold", size)
            middle = _cap_middle(s.draw, font)
            for (x, y, w, h), label in placed:
                box = (MARGIN_X + x, top + y, MARGIN_X + x + w, top + y + h)
                s.draw.rounded_rectangle(
                    box,
                    radius=h // 2,
                    fill=s.palette.accent,
                    outline=s.style.accent_edge,
                    width=2 if s.style.accent_edge else 0,
                )
                s.draw.text(
                    (box[0] + round(size * 0.9), box[1] + h / 2 - middle), label, font=font, fill=s.palette.on_accent
                )
            return
    _tile_grid(s, tools, top, height)


def _monogram_tiles(s: _Slide, tools: Sequence[str], top: float, height: float) -> None:
    """A few tools as cards, each with a two-letter monogram on the accent: up to 4 columns, 3 rows."""
    n = len(tools)
    cols = n if n <= 4 else (3 if n in (5, 6, 9) else 4)
    rows = math.ceil(n / cols)
    gap = 32
    tile_w = (CONTENT_WIDTH - (cols - 1) * gap) / cols
    tile_h = min(172.0, (height - (rows - 1) * gap) / rows)
    pad = 32
    mark = min(96.0, tile_h - 2 * pad)
    for i, tool in enumerate(tools):
        r, c = divmod(i, cols)
        x, y = MARGIN_X + c * (tile_w + gap), top + r * (tile_h + gap)
        _card(s.draw, s.style, (x, y, x + tile_w, y + tile_h), radius=20)
        mx, my = x + pad, y + (tile_h - mark) / 2
        s.draw.rounded_rectangle(
            (mx, my, mx + mark, my + mark),
            radius=18,
            fill=s.palette.accent,
            outline=s.style.accent_edge,
            width=2 if s.style.accent_edge else 0,
        )
        letters = "".join(ch for ch in tool if ch.isalnum())[:2] or tool[:1]
        font, lines = fit_text(
            s.draw, letters.capitalize(), font_path("bold"), mark * 0.75, mark * 0.7, 40, 12, max_lines=1
        )
        if lines:
            left, t, right, b = s.draw.textbbox((0, 0), lines[0], font=font)
            s.draw.text(
                (mx + (mark - left - right) / 2, my + (mark - t - b) / 2), lines[0], font=font, fill=s.palette.on_accent
            )
        text_x = mx + mark + 28
        box_w = x + tile_w - pad - text_x
        font, lines = fit_text(s.draw, tool, font_path("bold"), box_w, tile_h - 2 * 20, 40, 18, balance=True)
        used = line_height(font) * len(lines)
        _draw_lines(s.draw, text_x, y + (tile_h - used) / 2, lines, font, s.palette.text)


def _flow_chips(
    draw: ImageDraw.ImageDraw, tools: Sequence[str], size: int, width: float, height: float
) -> list[tuple[tuple[float, float, float, float], str]] | None:
    """Chips left to right, row by row, at ``size``; None if they do not fit in ``height``."""
    font = _font("semibold", size)
    pad_x, chip_h, gap = round(size * 0.9), round(size * 2.1), round(size * 0.5)
    placed: list[tuple[tuple[float, float, float, float], str]] = []
    x = y = 0.0
    for tool in tools:
        label = ellipsize(draw, tool, font, width - 2 * pad_x)
        w = _width(font, label) + 2 * pad_x
        if x > 0 and x + w > width:
            x, y = 0.0, y + chip_h + gap
        if y + chip_h > height:
            return None
        placed.append(((x, y, w, chip_h), label))
        x += w + gap
    return placed


def _tile_grid(s: _Slide, tools: Sequence[str], top: float, height: float) -> None:
    """Fallback for many long names: equal tiles in a grid, each name wrapped or cut to its tile."""
    gap, n = 14, len(tools)
    cols = next((c for c in range(2, 7) if (height - (math.ceil(n / c) - 1) * gap) / math.ceil(n / c) >= 56), 6)
    rows = math.ceil(n / cols)
    tile_w = (CONTENT_WIDTH - (cols - 1) * gap) / cols
    tile_h = (height - (rows - 1) * gap) / rows
    pad_x, pad_y = 20, 8
    for i, tool in enumerate(tools):
        r, c = divmod(i, cols)
        x, y = MARGIN_X + c * (tile_w + gap), top + r * (tile_h + gap)
        s.draw.rounded_rectangle(
            (x, y, x + tile_w, y + tile_h),
            radius=14,
            fill=s.palette.accent,
            outline=s.style.accent_edge,
            width=2 if s.style.accent_edge else 0,
        )
        font, lines = fit_text(s.draw, tool, font_path("semibold"), tile_w - 2 * pad_x, tile_h - 2 * pad_y, 26, 14)
        used = line_height(font) * len(lines)
        _draw_lines(s.draw, x + pad_x, y + (tile_h - used) / 2, lines, font, s.palette.on_accent)


def _farewell(s: _Slide, logo: Image.Image | None) -> None:
    p, e = s.palette, s.spec.employee
    if logo is not None:
        _place_logo(s, logo)
    width = 1480
    x = (WIDTH - width) / 2
    title = f"See you on {_unbroken_date(e.start_date)}, {first_name(clean_text(e.name))}!"
    subtitle = f"Everyone at {s.spec.company.name} is looking forward to meeting you."
    if e.buddy:
        note = f"Questions before then? {e.buddy}, your onboarding buddy, is happy to help."
    elif e.manager:
        note = f"Questions before then? {e.manager}, your manager, is happy to help."
    else:
        note = ""
    # Measure first, then centre the whole block vertically between the top bar and the footer.
    title_font, title_lines = fit_text(s.draw, title, font_path("display"), width, 330, 96, 40, balance=True)
    sub_font, sub_lines = fit_text(s.draw, subtitle, font_path("medium"), width, 110, 42, 24, balance=True)
    note_font, note_lines = (
        fit_text(s.draw, note, font_path("regular"), width, 90, 32, 20, balance=True) if note else (None, [])
    )
    pill_h, gaps = PILL_HEIGHT, (44, 36, 24)
    heights = [
        pill_h,
        line_height(title_font) * len(title_lines),
        line_height(sub_font) * len(sub_lines),
        line_height(note_font) * len(note_lines) if note_font else 0,
    ]
    y = TOP_BAR + (FOOTER_LINE_Y - TOP_BAR - sum(heights) - sum(gaps)) / 2
    _pill(s.draw, s.style, WIDTH / 2, y, "See you soon", max_width=width, centered=True)
    y += heights[0] + gaps[0]
    y += _draw_lines(s.draw, x, y, title_lines, title_font, p.text, center_width=width) + gaps[1]
    y += _draw_lines(s.draw, x, y, sub_lines, sub_font, p.muted_text, center_width=width) + gaps[2]
    if note_font is not None:
        _draw_lines(s.draw, x, y, note_lines, note_font, p.muted_text, center_width=width)


_RENDERERS = {"welcome": _welcome, "team": _team, "week": _week, "stack": _stack, "farewell": _farewell}


# --- public API ---------------------------------------------------------------------------------------


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


def render_slides(spec: OnboardingVideoSpec, out_dir: Path, *, logo_bytes: bytes | None = None) -> list[Path]:
    """Render every slide of ``spec`` as ``out_dir/NN-<section>.png`` (NN from 01) and return the paths.

    Logo bytes Pillow cannot read are ignored with a warning; the slides are rendered without a logo.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    logo = read_logo(logo_bytes)
    paths = []
    for i, section in enumerate(slide_sections(spec), start=1):
        path = out_dir / f"{i:02d}-{section}.png"
        render_slide(section, spec, logo=logo).save(path, format="PNG", compress_level=1)
        paths.append(path)
    return paths
