"""Every ffmpeg failure is one kind of stage failure: permanent (exit 3), never a crash that is retried."""

from __future__ import annotations

import pytest

from preboarding.api.stages import EXIT_PERMANENT
from preboarding.renderer import audio
from preboarding.renderer.errors import PermanentFailure
from preboarding.renderer.ffmpeg import run_ffmpeg

pytestmark = pytest.mark.unit


def test_a_failing_ffmpeg_is_a_permanent_failure_naming_what_failed() -> None:
    with pytest.raises(PermanentFailure, match=r"ffmpeg could not probe nothing: .*") as info:
        run_ffmpeg(["-v", "error", "-i", "/nonexistent/input.wav", "-f", "null", "-"], what="probe nothing")
    assert info.value.exit_code == EXIT_PERMANENT
    assert info.value.reason == "FfmpegFailed"


def test_resampling_failures_are_permanent_too() -> None:
    # audio.resample once ran ffmpeg with check=True: a failure there crashed the stage (exit 1, retried).
    with pytest.raises(PermanentFailure, match="resample a clip from 16000 to -1 Hz") as info:
        audio.resample(audio.Pcm(16000, b"\x00\x00" * 160), -1)
    assert info.value.exit_code == EXIT_PERMANENT


def test_a_missing_ffmpeg_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PermanentFailure, match="ffmpeg is not installed") as info:
        run_ffmpeg(["-version"], what="print its version")
    assert info.value.reason == "MissingDependency"
