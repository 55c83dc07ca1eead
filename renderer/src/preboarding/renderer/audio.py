"""The audio stage's core: synthesize every line in parallel, lay them on one timeline, normalize.

The timeline (exact start and end of every line, from the WAV frame counts) is what captions and
slide timing are built from, so nothing downstream guesses durations.
"""

from __future__ import annotations

import io
import json
import re
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from preboarding.renderer.errors import PermanentFailure
from preboarding.renderer.ffmpeg import run_ffmpeg
from preboarding.renderer.script import LINE_PAUSE_SECONDS, SECTION_PAUSE_SECONDS, Script
from preboarding.renderer.voices import Synthesizer

LEAD_IN_SECONDS = 0.6
TAIL_SECONDS = 1.2
TARGET_LUFS = -16.0
TARGET_TRUE_PEAK = -1.5  # below the -1 dBTP ceiling, leaving room for the AAC encoder's overshoot
MIX_SAMPLE_RATE = 48000


@dataclass(frozen=True)
class Segment:
    """One spoken line placed on the video's timeline."""

    index: int
    speaker: str
    section: str
    text: str
    voice: str
    start: float
    end: float


@dataclass(frozen=True)
class Timeline:
    segments: list[Segment]
    duration: float

    def to_json(self) -> bytes:
        return json.dumps({"duration": self.duration, "segments": [asdict(s) for s in self.segments]},
                          indent=2).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Timeline:
        doc = json.loads(data)
        return cls(segments=[Segment(**s) for s in doc["segments"]], duration=float(doc["duration"]))


@dataclass(frozen=True)
class Pcm:
    """Mono 16-bit PCM read from a WAV file."""

    rate: int
    frames: bytes

    @property
    def seconds(self) -> float:
        return len(self.frames) / 2 / self.rate


def read_wav(data: bytes) -> Pcm:
    """Decode a WAV produced by a TTS provider; anything but 16-bit PCM mono is converted with ffmpeg."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            if w.getsampwidth() == 2 and w.getnchannels() == 1:
                return Pcm(w.getframerate(), w.readframes(w.getnframes()))
            rate = w.getframerate()
    except (wave.Error, EOFError) as exc:
        raise PermanentFailure(f"the TTS provider returned audio that is not a WAV file: {exc}",
                               reason="BadAudio") from exc
    return Pcm(rate, _ffmpeg_pcm(data, rate))


def _ffmpeg_pcm(data: bytes, rate: int) -> bytes:
    return run_ffmpeg(["-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", str(rate), "pipe:1"],
                      input=data, what="decode synthesized audio", reason="BadAudio").stdout


def resample(pcm: Pcm, rate: int) -> Pcm:
    """``pcm`` at ``rate`` Hz (ffmpeg's resampler); a failure is permanent like every ffmpeg failure."""
    if pcm.rate == rate:
        return pcm
    raw = run_ffmpeg(["-v", "error", "-f", "s16le", "-ar", str(pcm.rate), "-ac", "1", "-i", "pipe:0",
                      "-f", "s16le", "-ar", str(rate), "-ac", "1", "pipe:1"],
                     input=pcm.frames, what=f"resample a clip from {pcm.rate} to {rate} Hz").stdout
    return Pcm(rate, raw)


def synthesize_lines(script: Script, synth: Synthesizer, voices: dict[str, str], concurrency: int) -> list[Pcm]:
    """Every line through the provider, in parallel; results in script order."""
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tts") as pool:
        wavs = list(pool.map(lambda line: synth.synthesize(line.text, voices[line.speaker]), script.lines))
    return [read_wav(w) for w in wavs]


def build_timeline(script: Script, clips: list[Pcm], voices: dict[str, str]) -> tuple[Timeline, Pcm]:
    """Lay the clips end to end with pauses (longer between sections); exact times from frame counts."""
    rate = max(c.rate for c in clips)
    clips = [resample(c, rate) for c in clips]

    def silence(seconds: float) -> bytes:
        return b"\x00\x00" * round(seconds * rate)

    parts = [silence(LEAD_IN_SECONDS)]
    frames = len(parts[0]) // 2
    segments = []
    for i, (line, clip) in enumerate(zip(script.lines, clips, strict=True)):
        if i:
            gap = SECTION_PAUSE_SECONDS if line.section != script.lines[i - 1].section else LINE_PAUSE_SECONDS
            parts.append(silence(gap))
            frames += len(parts[-1]) // 2
        start = frames / rate
        parts.append(clip.frames)
        frames += len(clip.frames) // 2
        segments.append(Segment(i, line.speaker, line.section, line.text, voices[line.speaker],
                                round(start, 3), round(frames / rate, 3)))
    parts.append(silence(TAIL_SECONDS))
    frames += len(parts[-1]) // 2
    return Timeline(segments, round(frames / rate, 3)), Pcm(rate, b"".join(parts))


def write_wav(pcm: Pcm, path: Path) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(pcm.rate)
        w.writeframes(pcm.frames)


def measure_loudness(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's EBU R128 meter."""
    stderr = run_ffmpeg(["-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true:framelog=verbose",
                         "-f", "null", "-"], what="measure loudness").stderr.decode(errors="replace")
    summary = stderr.rpartition("Summary:")[2]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not integrated or not peak:
        raise PermanentFailure(f"ffmpeg could not measure loudness: {stderr[-300:]}", reason="FfmpegFailed")
    return float(integrated.group(1)), float(peak.group(1))


def normalize_to_aac(source: Path, target: Path) -> float:
    """Gain to -16 LUFS integrated, a limiter under the true-peak ceiling, mono AAC in .m4a.

    A measured static gain keeps the speech's dynamics (ffmpeg's loudnorm falls back to dynamic
    mode, at 192 kHz, whenever the gain would push peaks over the ceiling: slower and pumpier).
    Returns the source's integrated loudness.
    """
    loudness, _ = measure_loudness(source)
    if loudness == float("-inf"):
        raise PermanentFailure("the synthesized speech is silent", reason="SilentAudio")
    gain = TARGET_LUFS - loudness
    limit = 10 ** (TARGET_TRUE_PEAK / 20)
    chain = (f"aresample={MIX_SAMPLE_RATE},volume={gain:.2f}dB,"
             f"alimiter=limit={limit:.4f}:attack=2:release=40:level=false:asc=true")
    run_ffmpeg(["-hide_banner", "-v", "error", "-y", "-i", str(source), "-af", chain,
                "-ac", "1", "-c:a", "aac", "-b:a", "96k", "-aac_coder", "fast", "-movflags", "+faststart", str(target)],
               what="encode the mix")
    return loudness
