"""Pipeline stage names and their dependencies (the DAG the operator walks)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from preboarding.api.models import OnboardingVideoSpec


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


def planned_stages(spec: OnboardingVideoSpec) -> list[Stage]:
    """The stages a video runs, in dependency order: notify only when the new hire is to be emailed.

    The one place this rule lives: the operator plans Jobs for these, ``preboarding render`` runs these.
    """
    return [s for s in STAGES if s is not Stage.NOTIFY or spec.delivery.send_email]

