"""A video's inputs: the ``input.json`` document the Jobs read, and what each stage reads of it.

``input_document`` is the one builder of ``input.json`` (the operator writes it before the first Job;
``preboarding render`` writes it into its output folder). ``stage_inputs_hashes`` digests what each
stage reads, chained through the stage DAG: the operator starts a new Job when a digest changes, the
renderer skips a stage whose record carries the current digest (reruns are idempotent).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from preboarding import api
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
    # Fields at their defaults are left out: a field added to the API later (with a default that keeps
    # today's behaviour) changes no digest, so an upgrade reruns nothing and sends no second email.
    s = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    employee, company = s["employee"], s["company"]
    own = {
        Stage.SCRIPT: (employee, company["name"], s.get("script")),
        Stage.AUDIO: (s.get("voices"), spec.employee.language),
        Stage.SLIDES: (employee, company),
        Stage.COMPOSE: (),
        Stage.NOTIFY: (employee["email"], employee["name"], company, _what_is_sent(s.get("delivery"))),
    }
    hashes: dict[Stage, str] = {}
    for stage in STAGES:  # dependency order
        hashes[stage] = _digest(stage.value, own[stage], [hashes[d] for d in STAGE_DEPENDENCIES[stage]])
    return hashes


# When the email goes out, and whom a failure is told, is not what it says: changing them sends no second one.
_SCHEDULING = ("sendAt", "daysBeforeStart", "hrContact")


def _what_is_sent(delivery: dict[str, Any] | None) -> dict[str, Any] | None:
    kept = {k: v for k, v in (delivery or {}).items() if k not in _SCHEDULING}
    return kept or None


def input_document(
    spec: dict[str, Any] | OnboardingVideoSpec,
    *,
    namespace: str | None = None,
    name: str | None = None,
    uid: str | None = None,
    generation: int | None = None,
) -> bytes:
    """``input.json``: the OnboardingVideo as the operator saw it (metadata reduced to what identifies it)."""
    if isinstance(spec, OnboardingVideoSpec):
        spec = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    metadata = {k: v for k, v in
                {"name": name, "namespace": namespace, "uid": uid, "generation": generation}.items() if v is not None}
    document: dict[str, Any] = {"apiVersion": api.API_VERSION, "kind": api.KIND}
    if metadata:
        document["metadata"] = metadata
    document["spec"] = spec
    return json.dumps(document, indent=2).encode()
