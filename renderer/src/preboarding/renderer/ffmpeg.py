"""One way to run ffmpeg, with one mapping of its failures to stage errors.

ffmpeg fails on what it is given (a corrupt clip, an unreadable slide, a full disk), not on the
network, so a failure is permanent (exit 3): retrying the Job would fail the same way. A missing
ffmpeg binary is a broken image, also permanent.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from preboarding.renderer.errors import PermanentFailure

STDERR_TAIL = 400


def run_ffmpeg(args: Sequence[str], *, what: str, input: bytes | None = None,
               reason: str = "FfmpegFailed") -> subprocess.CompletedProcess[bytes]:
    """Run ``ffmpeg <args>``; raises ``PermanentFailure`` saying ``what`` failed, with ffmpeg's last words.

    ``args`` excludes the program name; ``input`` is fed on stdin; stdout and stderr are captured.
    """
    try:
        result = subprocess.run(["ffmpeg", *args], input=input, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise PermanentFailure("ffmpeg is not installed (Debian package ffmpeg)", reason="MissingDependency") from exc
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        raise PermanentFailure(f"ffmpeg could not {what}: {stderr[-STDERR_TAIL:]}", reason=reason)
    return result
