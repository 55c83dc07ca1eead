"""HR payload validation and the pure mapping to an OnboardingVideo."""

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from preboarding import api
from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.payload import NewHirePayload, build_onboarding_video, spec_digest, video_name

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "new-hire.json"


def _payload() -> dict:  # type: ignore[type-arg]
    return json.loads(EXAMPLE.read_text())


def test_example_maps_to_a_valid_resource() -> None:
    manifest = build_onboarding_video(NewHirePayload.model_validate(_payload()), "hr", webhook_id="msg_1")
    assert manifest["apiVersion"] == "preboarding.dev/v1alpha1"
    assert manifest["metadata"]["namespace"] == "hr"
    assert manifest["metadata"]["annotations"][api.ANNOTATION_WEBHOOK_ID] == "msg_1"
    spec = OnboardingVideoSpec.model_validate(manifest["spec"])
    assert spec.employee.name == "Priya Raman"
    assert manifest["spec"]["employee"]["startDate"] == "2026-12-07"
    assert manifest["spec"]["company"]["brandColor"] == "#0F766E"
    assert len(spec.employee.schedule) == 5


def test_same_data_same_name_and_digest() -> None:
    a = build_onboarding_video(NewHirePayload.model_validate(_payload()), "hr")
    b = build_onboarding_video(NewHirePayload.model_validate(_payload()), "hr", webhook_id="other")
    assert a["metadata"]["name"] == b["metadata"]["name"]
    assert a["metadata"]["annotations"][api.ANNOTATION_PAYLOAD_HASH] == \
        b["metadata"]["annotations"][api.ANNOTATION_PAYLOAD_HASH]
    changed = _payload()
    changed["employee"]["start_date"] = "2027-01-04"
    c = build_onboarding_video(NewHirePayload.model_validate(changed), "hr")
    assert c["metadata"]["name"] == a["metadata"]["name"]
    assert c["metadata"]["annotations"][api.ANNOTATION_PAYLOAD_HASH] != \
        a["metadata"]["annotations"][api.ANNOTATION_PAYLOAD_HASH]


@pytest.mark.parametrize("employee_id", ["E-10442", "a" * 128, "UPPER.case:id@x", "---", "x_y"])
def test_video_names_are_dns_labels(employee_id: str) -> None:
    name = video_name(employee_id)
    assert len(name) <= 63
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name)


def test_distinct_ids_that_slug_alike_get_distinct_names() -> None:
    assert video_name("E.1") != video_name("e-1")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p["employee"].pop("email"), "employee.email"),
        (lambda p: p["employee"].update(email="not-an-email"), "employee.email"),
        (lambda p: p["employee"].update(start_date="07/12/2026"), "employee.start_date"),
        (lambda p: p["employee"].update(tech_stack="Python"), "employee.tech_stack"),
        (lambda p: p["company"].update(brand_color="teal"), "company.brand_color"),
        (lambda p: p["employee"].update(name=""), "employee.name"),
    ],
)
def test_bad_payloads_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = _payload()
    mutate(payload)
    with pytest.raises(ValidationError) as info:
        NewHirePayload.model_validate(payload)
    locations = {".".join(str(p) for p in err["loc"]) for err in info.value.errors()}
    assert field in locations


def test_unknown_fields_are_ignored() -> None:
    payload = _payload()
    payload["employee"]["shoe_size"] = 44
    payload["extra"] = {"x": 1}
    assert NewHirePayload.model_validate(payload).employee.name == "Priya Raman"


def test_digest_ignores_key_order() -> None:
    p = NewHirePayload.model_validate(_payload())
    from preboarding.api.payload import payload_to_spec

    spec = payload_to_spec(p)
    reordered = OnboardingVideoSpec.model_validate(dict(reversed(list(spec.model_dump(by_alias=True).items()))))
    assert spec_digest(spec) == spec_digest(reordered)


def test_example_resource_matches_example_payload() -> None:
    import yaml

    resource = yaml.safe_load((EXAMPLE.parent / "onboardingvideo.yaml").read_text())
    from_yaml = OnboardingVideoSpec.model_validate(resource["spec"])
    from_payload = build_onboarding_video(NewHirePayload.model_validate(_payload()), "default")
    assert spec_digest(from_yaml) == from_payload["metadata"]["annotations"][api.ANNOTATION_PAYLOAD_HASH]
