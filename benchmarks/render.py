"""Renderer benchmark: the whole pipeline with the offline providers, as ``make demo`` runs it.

Each run renders ``examples/new-hire.json`` (about 90 s of video) into a fresh folder in a fresh
process (``preboarding render``), so caches from one run never help the next. Prints, per stage,
the median wall and CPU seconds (CPU includes flite and ffmpeg child processes), the end-to-end
realtime factor, compose's own realtime factor, and the peak RSS of the process and its children.

    .venv/bin/python -m benchmarks.render --runs 5   (or .venv/bin/python benchmarks/render.py)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("script", "audio", "slides", "compose", "notify")


def render_once(payload: Path) -> tuple[float, dict[str, dict[str, float]], float]:
    """(wall seconds of the command, per-stage records, video seconds)."""
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        env = {**os.environ, "PREBOARDING_SCRIPT_PROVIDER": "template", "PREBOARDING_TTS_PROVIDER": "flite"}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "preboarding.cli", "render", str(payload), "--out", tmp],
                       check=True, capture_output=True, env=env)
        wall = time.perf_counter() - started
        records = {s: json.loads(Path(tmp, "records", f"{s}.json").read_text()) for s in STAGES}
        seconds = records["compose"]["usage"]["seconds"]
    return wall, records, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--payload", type=Path, default=ROOT / "examples" / "new-hire.json")
    args = parser.parse_args()

    render_once(args.payload)  # warm the page cache (fonts, binaries); not counted
    walls, per_stage, video = [], {s: {"wall": [], "cpu": []} for s in STAGES}, 0.0
    for _ in range(args.runs):
        wall, records, video = render_once(args.payload)
        walls.append(wall)
        for s in STAGES:
            per_stage[s]["wall"].append(records[s]["durationSeconds"])
            per_stage[s]["cpu"].append(records[s]["cpuSeconds"])
    rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    print(f"renderer benchmark: {args.runs} runs of {args.payload.name}, {video:.1f} s of video, "
          f"offline providers, {os.cpu_count()} CPUs")
    print(f"{'stage':<9}{'wall s (median)':>17}{'cpu s (median)':>16}")
    for s in STAGES:
        print(f"{s:<9}{statistics.median(per_stage[s]['wall']):>17.3f}{statistics.median(per_stage[s]['cpu']):>16.3f}")
    end_to_end = statistics.median(walls)
    compose = statistics.median(per_stage["compose"]["wall"])
    print(f"end to end (whole command, median): {end_to_end:.2f} s -> {video / end_to_end:.1f}x realtime "
          f"(min {min(walls):.2f} s, max {max(walls):.2f} s)")
    print(f"compose: {video / compose:.0f}x realtime")
    print(f"peak RSS of the largest process (render, flite or ffmpeg): {rss_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
