"""Checks of a rendered video with ffprobe and ffmpeg's EBU R128 meter."""

from __future__ import annotations

import json
import re
import struct
import subprocess
from pathlib import Path
from typing import Any


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    doc: dict[str, Any] = json.loads(out)
    return doc


def top_level_boxes(path: Path) -> list[str]:
    """MP4 box types in file order; faststart means ``moov`` comes before ``mdat``."""
    boxes = []
    with path.open("rb") as f:
        while header := f.read(8):
            size, kind = struct.unpack(">I4s", header)
            boxes.append(kind.decode("latin-1"))
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0] - 8
            elif size == 0:
                break
            f.seek(size - 8, 1)
    return boxes


def loudness(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of the first audio stream."""
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0", "-af",
                          "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    summary = err.rpartition("Summary:")[2]
    i = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    tp = re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary)
    assert i and tp, err[-500:]
    return float(i.group(1)), float(tp.group(1))


def vtt_cues(text: str) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    cues = []
    for block in text.split("\n\n"):
        for i, line in enumerate(block.splitlines()):
            if " --> " in line:
                a, b = line.split(" --> ")
                cues.append((seconds(a), seconds(b), "\n".join(block.splitlines()[i + 1:])))
    return cues


def assert_playable_video(video: Path, captions: Path, timeline: dict[str, Any]) -> None:
    """The checks every rendered video must pass."""
    info = probe(video)
    streams = {s["codec_type"]: s for s in info["streams"]}
    v, a = streams["video"], streams["audio"]
    assert (v["codec_name"], v["profile"], v["pix_fmt"], v["width"], v["height"]) == (
        "h264", "High", "yuv420p", 1920, 1080)
    assert a["codec_name"] == "aac"
    assert streams["subtitle"]["codec_name"] == "mov_text"
    duration = float(info["format"]["duration"])
    assert abs(duration - timeline["duration"]) < 0.2
    assert abs(float(v["duration"]) - timeline["duration"]) < 0.2  # the picture lasts as long as the sound
    # Still slides: a handful of frames, not 30 a second.
    assert int(v["nb_frames"]) <= 12
    boxes = top_level_boxes(video)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # +faststart
    integrated, peak = loudness(video)
    assert -17.0 <= integrated <= -15.0
    assert peak <= -1.0
    cues = vtt_cues(captions.read_text())
    segments = timeline["segments"]
    assert cues[0][0] == segments[0]["start"] and cues[-1][1] == segments[-1]["end"]
    spoken = sum(s["end"] - s["start"] for s in segments)
    covered = sum(b - a for a, b, _ in cues)
    assert covered >= 0.99 * spoken
