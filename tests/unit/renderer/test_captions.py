from __future__ import annotations

import itertools
import re

from preboarding.renderer.audio import Segment
from preboarding.renderer.captions import build_webvtt, cues_for, escape_cue_text, timestamp, wrap


def seg(text: str, start: float = 1.0, end: float = 5.0, speaker: str = "Alex") -> Segment:
    return Segment(0, speaker, "welcome", text, "rms", start, end)


def test_markup_characters_are_escaped() -> None:
    vtt = build_webvtt([seg("Welcome <b>Zoë</b> & R&D --> team")])
    assert "&lt;b&gt;Zoë&lt;/b&gt; &amp; R&amp;D --&gt; team" in vtt
    body = vtt.split("\n", 2)[2]
    assert "<b>" not in body and "-->" not in body.replace(" --> ", "")
    assert escape_cue_text("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_cues_are_voice_tagged_and_cover_the_speech_exactly() -> None:
    segments = [seg("Hi there, this is a rather long line that will need more than one caption cue to be "
                    "readable on a phone screen without squinting at all.", 0.6, 9.2),
                seg("Short.", 9.6, 10.4, "Jordan")]
    vtt = build_webvtt(segments)
    assert vtt.startswith("WEBVTT\n")
    times = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})", vtt)
    assert times[0][0] == "00:00:00.600"
    assert times[-2][1] == "00:00:09.200"  # the first line's last cue ends when its speech does
    assert times[-1] == ("00:00:09.600", "00:00:10.400")
    assert "<v Jordan>Short." in vtt
    for (_, end), (start, _) in itertools.pairwise(times):
        assert end <= start  # no overlapping cues


def test_cue_lines_stay_short() -> None:
    for start, end, lines in cues_for(seg("word " * 60)):
        assert start < end
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= 42 for line in lines)
    assert wrap("x" * 50) == ["x" * 50]  # an unbreakable word gets its own line


def test_timestamps() -> None:
    assert timestamp(0) == "00:00:00.000"
    assert timestamp(3723.4567) == "01:02:03.457"
