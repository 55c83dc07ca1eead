"""The slide layouts: one function per section (welcome, team, week, stack, farewell) and their helpers.

Each layout draws its section's content onto a ``_Slide`` whose backdrop is already painted; the
footer is drawn afterwards by ``render_slide``. Layouts are pure: spec and logo in, pixels out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from preboarding.renderer.dates import written_date
from preboarding.renderer.script import first_name
from preboarding.renderer.slides.canvas import (
    CONTENT_BOTTOM,
    CONTENT_TOP,
    CONTENT_WIDTH,
    FOOTER_LINE_Y,
    KICKER_Y,
    MARGIN_X,
    PILL_HEIGHT,
    TOP_BAR,
    WIDTH,
    _accent_box,
    _avatar,
    _cap_middle,
    _card,
    _draw_lines,
    _header,
    _ink_height,
    _pill,
    _place_logo,
    _Slide,
    _text_block,
)
from preboarding.renderer.slides.text import (
    Font,
    _font,
    _width,
    clean_text,
    ellipsize,
    fit_text,
    font_path,
    line_height,
    load_font,
    wrap_text,
)


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
    facts = [("First day", written_date(e.start_date, keep_together=True))]
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
        _accent_box(s.draw, s.style, (x, top, x + width, top + head_h), radius=16)
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
                _accent_box(s.draw, s.style, box, radius=h // 2)
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
        _accent_box(s.draw, s.style, (mx, my, mx + mark, my + mark), radius=18)
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
        _accent_box(s.draw, s.style, (x, y, x + tile_w, y + tile_h), radius=14)
        font, lines = fit_text(s.draw, tool, font_path("semibold"), tile_w - 2 * pad_x, tile_h - 2 * pad_y, 26, 14)
        used = line_height(font) * len(lines)
        _draw_lines(s.draw, x + pad_x, y + (tile_h - used) / 2, lines, font, s.palette.on_accent)


def _farewell(s: _Slide, logo: Image.Image | None) -> None:
    p, e = s.palette, s.spec.employee
    if logo is not None:
        _place_logo(s, logo)
    width = 1480
    x = (WIDTH - width) / 2
    title = f"See you on {written_date(e.start_date, keep_together=True)}, {first_name(clean_text(e.name))}!"
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


_RENDERERS: dict[str, Callable[[_Slide, Image.Image | None], None]] = {
    "welcome": _welcome,
    "team": _team,
    "week": _week,
    "stack": _stack,
    "farewell": _farewell,
}
