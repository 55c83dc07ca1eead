"""Pipeline stage names and their dependencies (the DAG the operator walks)."""

from enum import StrEnum


class Stage(StrEnum):
    """One step of the rendering pipeline; each runs as one Kubernetes Job."""

    SCRIPT = "script"
    AUDIO = "audio"
    SLIDES = "slides"
    COMPOSE = "compose"
    NOTIFY = "notify"


STAGES: tuple[Stage, ...] = tuple(Stage)

# script -> (audio, slides in parallel) -> compose -> notify
STAGE_DEPENDENCIES: dict[Stage, tuple[Stage, ...]] = {
    Stage.SCRIPT: (),
    Stage.AUDIO: (Stage.SCRIPT,),
    Stage.SLIDES: (Stage.SCRIPT,),
    Stage.COMPOSE: (Stage.AUDIO, Stage.SLIDES),
    Stage.NOTIFY: (Stage.COMPOSE,),
}

# Exit codes of `preboarding stage`, read by the operator from the Job's pod to decide on retries.
EXIT_OK = 0
EXIT_INVALID_INPUT = 2  # bad input: permanent, retrying cannot help
EXIT_PERMANENT = 3  # e.g. content refused by a provider, missing configuration
EXIT_RETRYABLE = 75  # EX_TEMPFAIL: network, provider 5xx, rate limit; retry with backoff

# Where things live under a video's storage prefix (``<namespace>/<name>/<uid>/``).
INPUT_KEY = "input.json"
VIDEO_KEY = "video.mp4"
THUMBNAIL_KEY = "thumbnail.jpg"
CAPTIONS_KEY = "captions.vtt"
SCRIPT_KEY = "script.json"


def record_key(stage: Stage) -> str:
    """Key of a stage's record (duration, provider, usage, cost, outcome) under the video prefix."""
    return f"records/{stage.value}.json"


def video_prefix(namespace: str, name: str, uid: str) -> str:
    """The storage prefix of one video: one per resource incarnation (a re-created name gets a new uid)."""
    return f"{namespace}/{name}/{uid}/"
