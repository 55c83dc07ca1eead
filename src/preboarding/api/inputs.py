"""What each pipeline stage reads from the spec, as digests chained through the stage DAG.

Shared by the operator (a changed digest means a new Job) and the renderer (a stage whose record
carries the current digest has nothing to do: reruns are idempotent).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.stages import STAGE_DEPENDENCIES, STAGES, Stage


def _digest(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def stage_inputs_hashes(spec: OnboardingVideoSpec) -> dict[Stage, str]:
    """Digest of what each stage reads, chained through its dependencies.

    A spec change reruns exactly the stages whose digest changed: new voices rerun audio, compose and
    notify but keep script and slides; a new link expiry reruns only notify.
    """
    s = spec.model_dump(mode="json", by_alias=True)
    own = {
        Stage.SCRIPT: (s["employee"], s["company"]["name"], s["script"]),
        Stage.AUDIO: (s["voices"], s["employee"]["language"]),
        Stage.SLIDES: (s["employee"], s["company"]),
        Stage.COMPOSE: (),
        Stage.NOTIFY: (s["employee"]["email"], s["employee"]["name"], s["company"], s["delivery"]),
    }
    hashes: dict[Stage, str] = {}
    for stage in STAGES:  # dependency order
        hashes[stage] = _digest(stage.value, own[stage], [hashes[d] for d in STAGE_DEPENDENCIES[stage]])
    return hashes
