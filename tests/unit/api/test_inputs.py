"""Stage digests: what reruns when a spec changes, and what an upgrade of the API leaves alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from preboarding.api.inputs import stage_inputs_hashes
from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.payload import NewHirePayload, payload_to_spec
from preboarding.api.stages import Stage

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "new-hire.json"


def spec_document(**delivery: Any) -> dict[str, Any]:
    spec = payload_to_spec(NewHirePayload.model_validate(json.loads(EXAMPLE.read_text())))
    document = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    document.setdefault("delivery", {}).update(delivery)
    return document


def test_a_field_at_its_default_changes_no_digest() -> None:
    """A stored video from before a field existed keeps its digests: the upgrade reruns nothing."""
    before = stage_inputs_hashes(OnboardingVideoSpec.model_validate(spec_document()))
    explicit = stage_inputs_hashes(OnboardingVideoSpec.model_validate(spec_document(linkValidDays=30)))
    assert before == explicit


def test_a_new_link_life_reruns_only_notify() -> None:
    before = stage_inputs_hashes(OnboardingVideoSpec.model_validate(spec_document()))
    after = stage_inputs_hashes(OnboardingVideoSpec.model_validate(spec_document(linkValidDays=60)))
    assert [stage for stage in Stage if before[stage] != after[stage]] == [Stage.NOTIFY]
