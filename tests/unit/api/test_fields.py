"""One way to name a field in an error, the apiserver's, in every component."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from preboarding.api import fields
from preboarding.api.models import OnboardingVideoSpec


def test_field_path_names_fields_as_the_apiserver_does() -> None:
    assert fields.field_path(("employee", "schedule", 0, "items", 3)) == "employee.schedule[0].items[3]"
    assert fields.field_path(("query", "limit")) == "query.limit"
    assert fields.field_path((0, "speaker")) == "[0].speaker"
    assert fields.field_path(("employee", "email"), root="spec") == "spec.employee.email"
    assert fields.field_path(()) == ""
    assert fields.field_path((), default="body") == "body"
    assert fields.field_path((), root="spec", default="body") == "spec"


def test_env_name() -> None:
    assert fields.env_name(("script_provider",), "PREBOARDING_") == "PREBOARDING_SCRIPT_PROVIDER"
    assert fields.env_name(("bucket",), "PREBOARDING_S3_") == "PREBOARDING_S3_BUCKET"


def _invalid_spec(**employee: object) -> ValidationError:
    base = {"id": "E-1", "name": "Priya Raman", "email": "priya@example.com", "role": "Engineer",
            "start_date": "2026-12-07"}
    with pytest.raises(ValidationError) as info:
        OnboardingVideoSpec.model_validate({"employee": {**base, **employee}, "company": {"name": "Acme"}})
    return info.value


def test_summary_names_the_fields_under_root_and_counts_the_rest() -> None:
    exc = _invalid_spec(email="priya-at-example", schedule=[{"day": "Monday", "items": [""]}], name="",
                        role="", tech_stack=[""])
    assert exc.error_count() == 5
    text = fields.summary(exc, "spec")
    assert text.startswith("spec.employee.")
    assert text.endswith(" (and 2 more)")
    assert text.count("; ") == 2
    assert "spec.employee.email: value is not a valid email address" in fields.summary(exc, "spec", limit=5)
    assert "spec.employee.schedule[0].items[0]: " in fields.summary(exc, "spec", limit=5)


def test_problems_never_carry_the_rejected_value() -> None:
    exc = _invalid_spec(email="secret-personal-value")
    assert fields.problems(exc) == ["employee.email: value is not a valid email address: "
                                    "An email address must have an @-sign."]
    assert "secret-personal-value" not in fields.summary(exc)
