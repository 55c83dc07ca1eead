"""Slides: sections, size and format, text fitting, branding, and the inputs that must never crash."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from preboarding.api.models import OnboardingVideoSpec, ScheduleDay
from preboarding.api.payload import NewHirePayload, payload_to_spec
from preboarding.renderer import slides
from preboarding.renderer.palette import hex_to_rgb
from preboarding.renderer.slides import (
    HEIGHT,
    SLIDE_SECTIONS,
    WIDTH,
    fit_text,
    font_path,
    line_height,
    read_logo,
    render_slide,
    render_slides,
    slide_sections,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "new-hire.json"
LONG_NAME = ("Zoë O'Brien-Łukasiewicz <script>& " * 7)[:200].strip()
UNBROKEN = "W" * 200


def _spec(**employee: object) -> OnboardingVideoSpec:
    spec = payload_to_spec(NewHirePayload.model_validate(json.loads(EXAMPLE.read_text())))
    return spec.model_copy(update={"employee": spec.employee.model_copy(update=employee)})


def _stress_spec(brand: str = "#FFFF00") -> OnboardingVideoSpec:
    items = [f"Item {j}: a rather long meeting description that needs several lines to wrap" for j in range(12)]
    items[5] = "x" * 300
    spec = _spec(
        name=LONG_NAME,
        role="Principal Staff Distinguished Senior Backend Platform Reliability Engineer " * 2,
        team="T" * 200,
        manager=UNBROKEN,
        buddy="Ngozi Chimamanda Adaeze-Okonkwo " * 6,
        location="Remote (anywhere in the European Union, UTC±3) " * 4,
        tech_stack=[f"Technology number {i} with a long name" for i in range(29)] + ["A" * 200],
        schedule=[
            ScheduleDay(day=f"{d} " * 30, items=items) for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        ],
    )
    return spec.model_copy(
        update={"company": spec.company.model_copy(update={"name": "Acme " * 40, "brand_color": brand})}
    )


def _png(color: tuple[int, int, int, int] = (200, 30, 30, 255)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (400, 100), color).save(buf, "PNG")
    return buf.getvalue()


def _has_color(image: Image.Image, hex_color: str) -> bool:
    target = hex_to_rgb(hex_color)
    return any(rgb == target for _, rgb in image.getcolors(maxcolors=WIDTH * HEIGHT) or [])


# --- sections -----------------------------------------------------------------------------------------


def test_the_example_gets_all_five_sections() -> None:
    assert slide_sections(_spec()) == list(SLIDE_SECTIONS) == ["welcome", "team", "week", "stack", "farewell"]


def test_sections_without_content_are_skipped() -> None:
    assert slide_sections(_spec(team=None, manager=None, buddy=None)) == ["welcome", "week", "stack", "farewell"]
    assert slide_sections(_spec(schedule=[])) == ["welcome", "team", "stack", "farewell"]
    assert slide_sections(_spec(tech_stack=[])) == ["welcome", "team", "week", "farewell"]
    bare = _spec(team=None, manager=None, buddy=None, schedule=[], tech_stack=[], location=None)
    assert slide_sections(bare) == ["welcome", "farewell"]


@pytest.mark.parametrize("only", [{"team": "Payments"}, {"manager": "Marcus"}, {"buddy": "Lena"}])
def test_any_one_person_or_team_keeps_the_team_slide(only: dict[str, str]) -> None:
    spec = _spec(**{"team": None, "manager": None, "buddy": None, **only})
    assert "team" in slide_sections(spec)
    assert render_slide("team", spec).size == (WIDTH, HEIGHT)


def test_unknown_or_skipped_section_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown slide section"):
        render_slide("intro", _spec())
    with pytest.raises(ValueError, match="nothing to show"):
        render_slide("week", _spec(schedule=[]))


# --- images and files ---------------------------------------------------------------------------------


def test_render_slides_writes_numbered_rgb_full_hd_pngs(tmp_path: Path) -> None:
    paths = [s.path for s in render_slides(_spec(), tmp_path / "out")]
    assert [p.name for p in paths] == [
        "01-welcome.png",
        "02-team.png",
        "03-week.png",
        "04-stack.png",
        "05-farewell.png",
    ]
    for path in paths:
        with Image.open(path) as img:
            assert img.format == "PNG"
            assert img.mode == "RGB"
            assert img.size == (WIDTH, HEIGHT) == (1920, 1080)


def test_file_numbers_follow_the_sections_present(tmp_path: Path) -> None:
    paths = [s.path for s in render_slides(_spec(schedule=[], manager=None, team=None, buddy=None), tmp_path)]
    assert [p.name for p in paths] == ["01-welcome.png", "02-stack.png", "03-farewell.png"]
    assert [s.section for s in render_slides(_spec(schedule=[], manager=None, team=None, buddy=None),
                                             tmp_path)] == ["welcome", "stack", "farewell"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]


@pytest.mark.parametrize("section", SLIDE_SECTIONS)
def test_every_slide_shows_the_brand_colour(section: str) -> None:
    spec = _spec()
    assert spec.company.brand_color == "#0F766E"
    image = render_slide(section, spec)
    assert image.mode == "RGB" and image.size == (WIDTH, HEIGHT)
    assert _has_color(image, "#0F766E")


def test_a_different_brand_colour_changes_the_slides() -> None:
    spec = _spec()
    red = spec.model_copy(update={"company": spec.company.model_copy(update={"brand_color": "#E11D48"})})
    assert _has_color(render_slide("stack", red), "#E11D48")
    assert not _has_color(render_slide("stack", red), "#0F766E")


@pytest.mark.parametrize("brand", ["#FFFF00", "#FFFFFF", "#000000", "#777777"])
def test_stress_spec_renders_every_slide(brand: str, tmp_path: Path) -> None:
    spec = _stress_spec(brand)
    assert len(spec.employee.schedule) == 7 and all(len(d.items) == 12 for d in spec.employee.schedule)
    assert len(spec.employee.tech_stack) == 30 and len(spec.employee.name) == 200
    paths = [s.path for s in render_slides(spec, tmp_path, logo_bytes=_png())]
    assert len(paths) == 5
    for path in paths:
        with Image.open(path) as img:
            assert img.size == (WIDTH, HEIGHT) and img.mode == "RGB"


@pytest.mark.parametrize("section", SLIDE_SECTIONS)
def test_nothing_is_drawn_outside_the_margins_even_for_the_stress_spec(section: str) -> None:
    spec = _stress_spec("#2563EB")
    image = render_slide(section, spec, logo=read_logo(_png()))
    backdrop = slides._backdrop(slides.derive_palette("#2563EB"), section in ("welcome", "farewell"))
    changed = ImageChops.difference(image, backdrop).getbbox()
    assert changed is not None
    left, top, right, bottom = changed  # right and bottom are exclusive; shapes end on the margin line
    assert left >= slides.MARGIN_X and right <= WIDTH - slides.MARGIN_X + 1, changed
    assert top >= slides.TOP_BAR and bottom <= HEIGHT - 40, changed


@pytest.mark.parametrize(
    "name", ["<script>&", "Zoë O'Brien-Łukasiewicz", "李小龍", "👩🏽‍💻 Ada", "A\u0000B\tC\nD", "\u202eevil", "x" * 200]
)
def test_any_unicode_name_renders(name: str) -> None:
    spec = _spec(name=name, manager=name, buddy=name, team=name)
    for section in slide_sections(spec):
        assert render_slide(section, spec).size == (WIDTH, HEIGHT)


# --- logo ---------------------------------------------------------------------------------------------


def test_a_logo_is_drawn(tmp_path: Path) -> None:
    without = render_slide("team", _spec())
    with_logo = render_slide("team", _spec(), logo=read_logo(_png((200, 30, 30, 255))))
    assert not _has_color(without, "#C81E1E")
    assert _has_color(with_logo, "#C81E1E")
    assert render_slides(_spec(), tmp_path, logo_bytes=_png())


@pytest.mark.parametrize("junk", [b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, _png()[:60]])
def test_an_unreadable_logo_is_ignored_with_a_warning(
    junk: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="preboarding.renderer.slides"):
        paths = [s.path for s in render_slides(_spec(), tmp_path, logo_bytes=junk)]
    assert len(paths) == 5
    assert "logo" in caplog.text
    assert read_logo(junk) is None


def test_no_logo_bytes_means_no_logo() -> None:
    assert read_logo(None) is None
    assert read_logo(b"") is None


def test_a_huge_logo_is_scaled_into_its_box() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (4000, 3000), "navy").save(buf, "JPEG")
    logo = read_logo(buf.getvalue())
    assert logo is not None and logo.mode == "RGBA"
    assert logo.width <= slides.LOGO_BOX[0] and logo.height <= slides.LOGO_BOX[1]


# --- text ---------------------------------------------------------------------------------------------


def _draw() -> ImageDraw.ImageDraw:
    return ImageDraw.Draw(Image.new("RGB", (10, 10)))


@pytest.mark.parametrize("text", [LONG_NAME, UNBROKEN, "Short", "word " * 300, "Zoë " * 50 + "x" * 300])
@pytest.mark.parametrize(("width", "height", "max_size", "min_size"), [(1680, 370, 104, 40), (200, 60, 30, 15)])
def test_fit_text_lines_stay_inside_the_box(text: str, width: int, height: int, max_size: int, min_size: int) -> None:
    draw = _draw()
    font, lines = fit_text(draw, text, font_path("bold"), width, height, max_size, min_size)
    assert lines
    for line in lines:
        assert draw.textlength(line, font=font) <= width, line
    assert len(lines) * line_height(font) <= max(height, line_height(font))
    assert min_size <= font.size <= max_size  # type: ignore[union-attr]


def test_fit_text_keeps_the_largest_size_when_the_text_fits() -> None:
    font, lines = fit_text(_draw(), "Welcome!", font_path("bold"), 1000, 200, 80, 20)
    assert lines == ["Welcome!"] and font.size == 80  # type: ignore[union-attr]


def test_fit_text_shrinks_before_it_cuts() -> None:
    draw = _draw()
    text = "Payments architecture walkthrough with Marcus"
    font, lines = fit_text(draw, text, font_path("regular"), 300, 120, 60, 12)
    assert font.size < 60  # type: ignore[union-attr]
    assert " ".join(lines) == text  # nothing lost


def test_fit_text_ellipsizes_only_at_the_minimum_size() -> None:
    draw = _draw()
    font, lines = fit_text(draw, "word " * 300, font_path("regular"), 200, 60, 30, 15)
    assert font.size == 15  # type: ignore[union-attr]
    assert lines[-1].endswith("…")


def test_fit_text_respects_max_lines_and_balance() -> None:
    draw = _draw()
    _, one = fit_text(draw, "a b c d e f g h i j k l m n o p", font_path("regular"), 100, 500, 30, 20, max_lines=1)
    assert len(one) == 1 and one[0].endswith("…")
    _, balanced = fit_text(
        draw, "See you on Monday, 7 December 2026, Priya!", font_path("bold"), 1200, 400, 96, 40, balance=True
    )
    widths = [draw.textlength(line, font=_) for line in balanced]
    assert len(balanced) == 2 and min(widths) > 0.6 * max(widths)


def test_fit_text_of_blank_text_is_empty() -> None:
    assert fit_text(_draw(), "   ", font_path("regular"), 100, 100, 30, 10)[1] == []


def test_fit_text_works_without_any_installed_font() -> None:
    draw = _draw()
    font, lines = fit_text(draw, LONG_NAME, None, 400, 100, 40, 12)
    assert lines
    for line in lines:
        assert draw.textlength(line, font=font) <= 400


def test_slides_render_with_the_builtin_font_when_no_font_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slides.text, "_FONT_FILES", {w: ("/nonexistent/font.ttf",) for w in slides.text._FONT_FILES})
    slides.font_path.cache_clear()
    try:
        spec = _stress_spec("#2563EB")
        for section in slide_sections(spec):
            assert render_slide(section, spec).size == (WIDTH, HEIGHT)
    finally:
        slides.font_path.cache_clear()


def test_inter_is_preferred_when_installed() -> None:
    path = font_path("regular")
    if path is None or not Path("/usr/share/fonts/opentype/inter/Inter-Regular.otf").is_file():
        pytest.skip("fonts-inter is not installed")
    assert path.endswith("Inter-Regular.otf")


