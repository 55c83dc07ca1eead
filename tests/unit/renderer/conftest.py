from __future__ import annotations

import json
from pathlib import Path

import pytest

from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.payload import NewHirePayload, payload_to_spec

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "new-hire.json"


@pytest.fixture
def spec() -> OnboardingVideoSpec:
    return payload_to_spec(NewHirePayload.model_validate(json.loads(EXAMPLE.read_text())))
