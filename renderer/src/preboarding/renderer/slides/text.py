"""Text on the slides: fonts, measuring, cleaning, wrapping and fitting text into a box, and spelled dates.

Every piece of text on a slide goes through ``fit_text``, which wraps, shrinks and as a last resort
ellipsizes it into its box, so no spec the API accepts (200-character names, 7 days x 12 items, 30 tools)
can overflow a slide. Nothing here draws: ``draw`` arguments are only used to measure.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont

# The package's name, as before it was split into modules: log filters and dashboards key on it.
logger = logging.getLogger("preboarding.renderer.slides")

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
# Lines break at whitespace except no-break spaces (str.split() would break at those too).
_BREAKS = re.compile(r"[^\S\u00a0\u202f\u2007]+")



# --- fonts and measuring ------------------------------------------------------------------------------


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


# --- cleaning, wrapping and fitting -------------------------------------------------------------------


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


# --- names --------------------------------------------------------------------------------------------


def _initials(name: str) -> str:
    letters = [next((ch for ch in word if ch.isalnum()), "") for word in clean_text(name).split()]
    letters = [ch for ch in letters if ch]
    if not letters:
        return "•"
    return (letters[0] + letters[-1] if len(letters) > 1 else letters[0]).upper()
