from __future__ import annotations

from pathlib import Path

import pytest

from preboarding.renderer.audio import Segment, Timeline
from preboarding.renderer.compose import compose_command, concat_list, slide_spans
from preboarding.renderer.errors import PermanentFailure


def timeline() -> Timeline:
    rows = [("welcome", 0.6, 4.0), ("welcome", 4.3, 8.0), ("team", 8.8, 12.0), ("week", 12.8, 20.0),
            ("farewell", 20.8, 24.0)]
    return Timeline([Segment(i, "Alex", s, "x", "rms", a, b) for i, (s, a, b) in enumerate(rows)], 25.2)


def test_each_slide_is_up_while_its_section_plays() -> None:
    slides = [(s, Path(f"/s/{i}-{s}.png")) for i, s in enumerate(["welcome", "team", "week", "farewell"], 1)]
    spans = slide_spans(slides, timeline())
    assert [(s.section, s.start, s.end) for s in spans] == [
        ("welcome", 0.0, 8.8), ("team", 8.8, 12.8), ("week", 12.8, 20.8), ("farewell", 20.8, 25.2)]


def test_a_slide_whose_section_is_never_spoken_is_skipped() -> None:
    slides = [("welcome", Path("/a.png")), ("stack", Path("/b.png")), ("farewell", Path("/c.png"))]
    spans = slide_spans(slides, timeline())
    assert [s.section for s in spans] == ["welcome", "farewell"]
    assert spans[0].end == 20.8


def test_no_slides_is_an_error() -> None:
    with pytest.raises(PermanentFailure):
        slide_spans([], timeline())


def test_concat_script_durations_add_up_and_paths_are_quoted(tmp_path: Path) -> None:
    odd = tmp_path / "it's here.png"
    spans = slide_spans([("welcome", odd), ("team", tmp_path / "b.png")], timeline())
    script = concat_list(spans)
    durations = [float(line.split()[1]) for line in script.splitlines() if line.startswith("duration")]
    assert sum(durations) == pytest.approx(25.2, abs=0.002)
    assert "it'\\''s here.png" in script
    assert script.splitlines()[-1] == f"file '{(tmp_path / 'b.png').resolve()}'"


def test_ffmpeg_call_is_h264_high_yuv420p_faststart_with_captions(tmp_path: Path) -> None:
    cmd = " ".join(compose_command(tmp_path / "l", tmp_path / "a.m4a", tmp_path / "c.vtt", tmp_path / "v.mp4"))
    for part in ("-c:v libx264", "-profile:v high", "format=yuv420p", "-movflags +faststart", "-c:a copy",
                 "-c:s mov_text", "-fps_mode vfr"):
        assert part in cmd
    assert " -r 30" not in cmd  # still slides are never encoded as a constant 30 fps
