"""WebVTT captions from the audio timeline. Pure."""

from __future__ import annotations

from preboarding.renderer.audio import Segment

MAX_LINE_CHARS = 42
MAX_CUE_LINES = 2


def escape_cue_text(text: str) -> str:
    """WebVTT cue text: ``&``, ``<`` and ``>`` must be escaped (this also rules out ``-->``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wrap(text: str, width: int = MAX_LINE_CHARS) -> list[str]:
    """Greedy word wrap; a word longer than the width gets a line of its own."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def timestamp(seconds: float) -> str:
    ms = round(max(seconds, 0.0) * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def cues_for(segment: Segment) -> list[tuple[float, float, list[str]]]:
    """Split one spoken line into cues of at most two caption lines, timed by their share of characters."""
    lines = wrap(segment.text)
    chunks = [lines[i: i + MAX_CUE_LINES] for i in range(0, len(lines), MAX_CUE_LINES)] or [[""]]
    total = sum(len(" ".join(c)) for c in chunks) or 1
    cues = []
    start = segment.start
    span = segment.end - segment.start
    for chunk in chunks:
        end = start + span * len(" ".join(chunk)) / total
        cues.append((start, end, chunk))
        start = end
    # The last cue ends exactly where the speech ends, whatever the rounding did.
    s, _, c = cues[-1]
    cues[-1] = (s, segment.end, c)
    return cues


def build_webvtt(segments: list[Segment]) -> str:
    """The captions file: one voice-tagged cue per chunk of speech."""
    out = ["WEBVTT", ""]
    n = 0
    for segment in segments:
        for start, end, lines in cues_for(segment):
            n += 1
            text = "\n".join(escape_cue_text(line) for line in lines)
            out += [str(n), f"{timestamp(start)} --> {timestamp(end)}", f"<v {segment.speaker}>{text}", ""]
    return "\n".join(out)
