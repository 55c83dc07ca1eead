"""``preboarding render`` end to end with the offline providers: real flite, Pillow and ffmpeg."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from tests.integration.renderer.media import assert_playable_video

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "new-hire.json"
OFFLINE = {"PREBOARDING_SCRIPT_PROVIDER": "template", "PREBOARDING_TTS_PROVIDER": "flite",
           "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}


def render(payload: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preboarding.cli", "render", str(payload), "--out", str(out)],
                          capture_output=True, text=True, env=OFFLINE, timeout=300, check=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = render(EXAMPLE, out)
    assert result.returncode == 0, result.stderr
    assert str(out / "video.mp4") in result.stdout
    return out


def test_render_writes_everything_the_issue_lists(rendered: Path) -> None:
    for name in ("video.mp4", "thumbnail.jpg", "captions.vtt", "script.json", "email.eml"):
        assert (rendered / name).stat().st_size > 0, name
    slides = sorted(p.name for p in (rendered / "slides").iterdir())
    assert slides == ["01-welcome.png", "02-team.png", "03-week.png", "04-stack.png", "05-farewell.png"]


def test_the_video_is_a_captioned_1080p_h264_with_normalized_speech(rendered: Path) -> None:
    timeline = json.loads((rendered / "audio" / "timeline.json").read_text())
    assert 60 <= timeline["duration"] <= 110
    assert_playable_video(rendered / "video.mp4", rendered / "captions.vtt", timeline)


def test_slides_change_when_their_section_starts(rendered: Path) -> None:
    timeline = json.loads((rendered / "audio" / "timeline.json").read_text())
    starts = {}
    for seg in timeline["segments"]:
        starts.setdefault(seg["section"], seg["start"])
    frames = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pts_time",
                             "-of", "csv=p=0", str(rendered / "video.mp4")],
                            capture_output=True, text=True, check=True).stdout.split()
    times = [float(t.strip(",")) for t in frames if t.strip(",")]
    expected = [0.0] + [starts[s] for s in ("team", "week", "stack", "farewell")]
    assert times[:5] == pytest.approx(expected, abs=0.05)


def test_the_email_has_the_link_and_both_parts(rendered: Path) -> None:
    msg = message_from_bytes((rendered / "email.eml").read_bytes(), policy=default)
    assert msg["To"] == "Priya Raman <priya.raman@example.com>"
    plain = msg.get_body(("plain",))
    assert plain is not None
    assert (rendered / "video.mp4").as_uri() in plain.get_content()


def test_a_second_render_reuses_every_stage(rendered: Path) -> None:
    result = render(EXAMPLE, rendered)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("already done for these inputs") == 5


@pytest.mark.parametrize(("mutate", "named"), [
    (lambda d: d["employee"].pop("email"), "employee.email: Field required"),
    (lambda d: d["employee"].update(email="not-an-address"), "employee.email"),
    (lambda d: d["employee"].update(start_date="2026-13-45"), "employee.start_date"),
    (lambda d: d["employee"].update(tech_stack="Python"), "employee.tech_stack"),
    (lambda d: d["company"].update(brand_color="teal"), "company.brand_color"),
])
def test_bad_input_exits_2_naming_the_field(tmp_path: Path, mutate, named: str) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(EXAMPLE.read_text())
    mutate(doc)
    payload = tmp_path / "bad.json"
    payload.write_text(json.dumps(doc))
    result = render(payload, tmp_path / "out")
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "video.mp4").exists()


def test_unreadable_json_exits_2(tmp_path: Path) -> None:
    payload = tmp_path / "broken.json"
    payload.write_text('{"employee": ')
    result = render(payload, tmp_path / "out")
    assert result.returncode == 2 and "not valid JSON" in result.stderr
    missing = render(tmp_path / "nope.json", tmp_path / "out")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
