"""Where a video's objects live in the store: one prefix per video, one key per artefact.

Every component names stored objects through this module: the operator writes ``input.json`` and
deletes the prefix, the renderer's stages read and write everything below it, the bridge presigns
the video. ``<namespace>/<name>/<uid>/`` is one resource incarnation (a re-created name gets a new uid)::

    <namespace>/<name>/<uid>/
      input.json                  the OnboardingVideo as the operator saw it (the Jobs' only input)
      script.json                 the two hosts' dialogue (script stage)
      audio/mix.m4a               the normalized voice track (audio stage)
      audio/timeline.json         start and end of every spoken line
      audio/segments/NNN.wav      one clip per line
      slides/NN-<section>.png     one 1920x1080 slide per section (slides stage)
      video.mp4                   the finished video (compose stage)
      captions.vtt                WebVTT captions
      thumbnail.jpg               the poster frame
      records/<stage>.json        what each stage did (``preboarding.api.records.StageRecord``)
"""

from __future__ import annotations

from preboarding.api.stages import Stage

INPUT_KEY = "input.json"
SCRIPT_KEY = "script.json"
MIX_KEY = "audio/mix.m4a"
TIMELINE_KEY = "audio/timeline.json"
SEGMENTS_PREFIX = "audio/segments/"
SLIDES_PREFIX = "slides/"
VIDEO_KEY = "video.mp4"
CAPTIONS_KEY = "captions.vtt"
THUMBNAIL_KEY = "thumbnail.jpg"
RECORDS_PREFIX = "records/"


def video_prefix(namespace: str, name: str, uid: str) -> str:
    """The storage prefix of one video: one per resource incarnation (a re-created name gets a new uid)."""
    return f"{namespace}/{name}/{uid}/"


def owner_prefix(namespace: str, name: str) -> str:
    """The prefix of every incarnation of a named video (what a presigned key must start with)."""
    return f"{namespace}/{name}/"


def record_key(stage: Stage) -> str:
    """Key of a stage's record (duration, provider, usage, cost, outcome) under the video prefix."""
    return f"{RECORDS_PREFIX}{stage.value}.json"


def segment_key(index: int) -> str:
    """Key of the ``index``-th spoken line's clip."""
    return f"{SEGMENTS_PREFIX}{index:03d}.wav"


def slide_key(position: int, section: str) -> str:
    """Key of the slide shown ``position``-th (from 1) for a script ``section``."""
    return f"{SLIDES_PREFIX}{position:02d}-{section}.png"
