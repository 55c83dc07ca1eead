from __future__ import annotations

import io
import wave

import pytest

from preboarding.renderer.audio import (
    LEAD_IN_SECONDS,
    TAIL_SECONDS,
    Pcm,
    Timeline,
    build_timeline,
    read_wav,
)
from preboarding.renderer.errors import PermanentFailure
from preboarding.renderer.script import LINE_PAUSE_SECONDS, SECTION_PAUSE_SECONDS, Line, Script

VOICES = {"Alex": "rms", "Jordan": "slt"}


def wav(seconds: float, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x01\x00" * round(seconds * rate))
    return out.getvalue()


def script() -> Script:
    return Script(title="t", lines=[Line(speaker="Alex", section="welcome", text="a"),
                                    Line(speaker="Jordan", section="welcome", text="b"),
                                    Line(speaker="Alex", section="farewell", text="c"),
                                    Line(speaker="Jordan", section="farewell", text="d")])


def test_timeline_times_come_from_frame_counts() -> None:
    clips = [read_wav(wav(s)) for s in (1.5, 2.25, 0.5, 0.75)]
    timeline, pcm = build_timeline(script(), clips, VOICES)
    a, b, c, d = timeline.segments
    assert a.start == LEAD_IN_SECONDS and a.end == LEAD_IN_SECONDS + 1.5
    assert b.start == pytest.approx(a.end + LINE_PAUSE_SECONDS)
    assert c.start == pytest.approx(b.end + SECTION_PAUSE_SECONDS)  # a longer pause between sections
    assert d.start == pytest.approx(c.end + LINE_PAUSE_SECONDS)
    assert timeline.duration == pytest.approx(d.end + TAIL_SECONDS)
    assert pcm.seconds == pytest.approx(timeline.duration, abs=0.001)
    assert (a.voice, b.voice) == ("rms", "slt")
    assert Timeline.from_json(timeline.to_json()) == timeline


def test_mixed_rates_are_resampled_to_the_highest() -> None:
    clips = [read_wav(wav(1.0, r)) for r in (16000, 24000, 16000, 8000)]
    timeline, pcm = build_timeline(script(), clips, VOICES)
    assert pcm.rate == 24000
    assert timeline.segments[0].end - timeline.segments[0].start == pytest.approx(1.0, abs=0.002)


def test_not_a_wav_is_a_clear_failure() -> None:
    with pytest.raises(PermanentFailure, match="not a WAV"):
        read_wav(b"ID3 this is an mp3")


def test_pcm_seconds() -> None:
    assert Pcm(8000, b"\x00\x00" * 4000).seconds == 0.5
