"""Greenhouse: the samples' signatures (headers.json test vectors), their meaning, and bad payloads."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest

from preboarding.bridge.vendors.base import (
    EventKind,
    InvalidPayload,
    NewHire,
    SignatureError,
    SignedRequest,
    VendorAdapter,
)
from preboarding.bridge.vendors.greenhouse import ADAPTER, GreenhouseAdapter
from tests.unit.bridge.vendors import VendorSamples

pytestmark = pytest.mark.unit

SAMPLES = VendorSamples("greenhouse")
SECRET = SAMPLES.secret("secret")
WEBHOOKS = SAMPLES.signed_files()


def signed(body: bytes, event_id: str | None = "evt-1", secret: str = SECRET) -> SignedRequest:
    headers = {"signature": "sha256 " + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}
    if event_id is not None:
        headers["greenhouse-event-id"] = event_id
    return SignedRequest(headers=headers, body=body)


def hire_data() -> dict[str, Any]:
    data: dict[str, Any] = SAMPLES.json("hire.json")
    return data


def parse_hire(data: dict[str, Any]) -> NewHire:
    (event,) = ADAPTER.parse(signed(json.dumps(data).encode()))
    assert event.kind is EventKind.HIRE
    (hire,) = event.hires
    return hire


def problem_fields(exc: pytest.ExceptionInfo[InvalidPayload]) -> list[str]:
    return [p.field for p in exc.value.problems]


def test_the_adapter_satisfies_the_protocol() -> None:
    adapter: VendorAdapter = ADAPTER
    assert isinstance(adapter, GreenhouseAdapter)
    assert adapter.default_api_url is None
    assert adapter.api_credentials("harvest-key") == ("harvest-key", "")


# -- signatures ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WEBHOOKS)
def test_every_sample_signature_verifies(name: str) -> None:
    ADAPTER.verify(SAMPLES.request(name), SECRET, now=0)


@pytest.mark.parametrize("name", WEBHOOKS)
def test_a_tampered_body_is_refused(name: str) -> None:
    request = SAMPLES.request(name)
    body = bytearray(request.body)
    body[len(body) // 2] ^= 0x01
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SignedRequest(request.headers, bytes(body)), SECRET, now=0)


def test_re_serialised_json_does_not_verify() -> None:
    # Greenhouse signs the body with its \u escapes: decoding and re-encoding the JSON changes the bytes.
    request = SAMPLES.request("hire.json")
    assert b"Zo\\u00eb" in request.body
    reencoded = json.dumps(json.loads(request.body), ensure_ascii=False, indent=2).encode()
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SignedRequest(request.headers, reencoded), SECRET, now=0)


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SAMPLES.request("hire.json"), "not-the-secret", now=0)


def test_a_missing_signature_header_is_refused() -> None:
    request = SAMPLES.request("hire.json")
    headers = {k: v for k, v in request.headers.items() if k != "signature"}
    with pytest.raises(SignatureError, match="missing Signature"):
        ADAPTER.verify(SignedRequest(headers, request.body), SECRET, now=0)


@pytest.mark.parametrize("value", [
    "sha256=" + "0" * 64,  # Ashby's form, not Greenhouse's
    "sha1 " + "0" * 64,
    "sha256 " + "0" * 63,
    "sha256 " + "z" * 64,
    "sha256",
])
def test_a_malformed_signature_header_is_refused(value: str) -> None:
    request = SAMPLES.request("hire.json")
    with pytest.raises(SignatureError, match="sha256 <64 hex digits>"):
        ADAPTER.verify(SignedRequest({**request.headers, "signature": value}, request.body), SECRET, now=0)


def test_upper_case_hex_is_accepted() -> None:
    request = SAMPLES.request("hire.json")
    algorithm, digest = request.headers["signature"].split(" ")
    ADAPTER.verify(SignedRequest({"signature": f"{algorithm} {digest.upper()}"}, request.body), SECRET, now=0)


def test_an_empty_secret_never_verifies() -> None:
    body = b'{"action": "ping"}'
    with pytest.raises(SignatureError, match="no webhook secret"):
        ADAPTER.verify(signed(body, secret=""), "", now=0)


def test_no_delivery_is_an_unsigned_ping() -> None:
    request = SAMPLES.request("ping.json")
    assert not ADAPTER.unsigned_ping(SignedRequest({}, request.body))


# -- events ----------------------------------------------------------------------------------------------


def test_hire_sample() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("hire.json"))
    assert event.kind is EventKind.HIRE
    assert event.action == "hire_candidate"
    assert event.delivery_id == "3ce5180d-9119-4ddc-9ef6-21edb6e76f8a"
    (hire,) = event.hires
    assert hire == NewHire(
        person_id="88001234",
        first_name="Zoë",  # sent as Zo\u00eb
        last_name="Ångström-Núñez",  # sent as \u00c5ngstr\u00f6m-N\u00fa\u00f1ez
        personal_email="zoe.angstrom@example.com",
        work_email="zoe.angstrom-nunez@work.example.com",
        role="Data Platform Engineer",
        department="Data",
        location="Berlin",
        start_date=dt.date(2026, 9, 14),
        external_ids={"candidateId": "88001234", "applicationId": "99005678", "offerId": "7700111",
                      "offerVersion": "2"},
    )
    assert hire.full_name() == "Zoë Ångström-Núñez"
    assert not ADAPTER.needs_lookup(hire)
    assert asyncio.run(ADAPTER.complete(hire, api=None)) is hire  # type: ignore[arg-type]


def test_ping_sample() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("ping.json"))
    assert (event.kind, event.action, event.hires) == (EventKind.PING, "ping", ())
    assert event.delivery_id == "b7d1a0f2-43a9-4c0e-9d5f-0d2f1f1c9a11"


def test_stage_change_is_ignored() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("ignored.json"))
    assert (event.kind, event.action, event.hires, event.person_ids) == (
        EventKind.IGNORED, "candidate_stage_change", (), ())


def test_unhire_removes_the_candidate() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("unhire.json"))
    assert (event.kind, event.action, event.person_ids) == (EventKind.REMOVE, "unhire_candidate", ("88001234",))


def test_delete_candidate_removes_the_person() -> None:
    # Shape from webhooks.html#candidate-deleted.
    body = json.dumps({"action": "delete_candidate", "payload": {"person": {
        "id": 37031511, "first_name": "Jack", "deleted_application_ids": [46196263]}}}).encode()
    (event,) = ADAPTER.parse(signed(body))
    assert (event.kind, event.person_ids) == (EventKind.REMOVE, ("37031511",))


def test_offer_deleted_is_ignored() -> None:
    # It names only offer.application_id, and an accepted offer is withdrawn with "Unhire".
    (event,) = ADAPTER.parse(SAMPLES.request("offer-deleted.json"))
    assert (event.kind, event.person_ids) == (EventKind.IGNORED, ())


@pytest.mark.parametrize("action", ["reject_candidate", "delete_application", "merge_candidate",
                                    "offer_updated", "new_candidate_application"])
def test_application_scoped_and_other_events_are_ignored(action: str) -> None:
    data = SAMPLES.json("unhire.json")
    data["action"] = action
    (event,) = ADAPTER.parse(signed(json.dumps(data).encode()))
    assert (event.kind, event.action, event.person_ids) == (EventKind.IGNORED, action, ())


def test_an_unknown_action_name_is_not_passed_on() -> None:
    (event,) = ADAPTER.parse(signed(b'{"action": "Something Else \\u00e9"}'))
    assert (event.kind, event.action) == (EventKind.IGNORED, "unknown")


def test_without_an_event_id_the_delivery_id_is_a_body_digest() -> None:
    body = SAMPLES.body("hire.json")
    (first,), (again,) = ADAPTER.parse(signed(body, event_id=None)), ADAPTER.parse(signed(body, event_id=None))
    assert first.delivery_id == again.delivery_id == "sha256:" + hashlib.sha256(body).hexdigest()


# -- hire fields -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("starts_at", ["2026-09-14", "09/14/2026", "9/14/2026", "2026-09-14T00:00:00Z"])
def test_both_start_date_formats(starts_at: str) -> None:
    data = hire_data()
    data["payload"]["application"]["offer"]["starts_at"] = starts_at
    assert parse_hire(data).start_date == dt.date(2026, 9, 14)


@pytest.mark.parametrize("starts_at", ["14.09.2026", "2026-13-01", "soon", True, {"date": "2026-09-14"}])
def test_a_bad_start_date_names_the_field_not_the_value(starts_at: Any) -> None:
    data = hire_data()
    data["payload"]["application"]["offer"]["starts_at"] = starts_at
    with pytest.raises(InvalidPayload) as exc:
        parse_hire(data)
    assert problem_fields(exc) == ["payload.application.offer.starts_at"]
    assert "14.09" not in exc.value.problems[0].message


def test_missing_optional_fields_leave_the_hire_usable() -> None:
    data = hire_data()
    application = data["payload"]["application"]
    for key in ("jobs", "job", "offer"):
        del application[key]
    application["candidate"]["email_addresses"] = []
    del application["candidate"]["last_name"]
    hire = parse_hire(data)
    assert hire == NewHire(person_id="88001234", first_name="Zoë",
                           external_ids={"candidateId": "88001234", "applicationId": "99005678"})


def test_null_optional_fields_are_missing_too() -> None:
    data = hire_data()
    application = data["payload"]["application"]
    application["offer"] = None
    application["jobs"][0]["departments"] = []
    application["jobs"][0]["offices"] = [{"id": 14, "name": None, "location": "St. Louis, MO"}]
    hire = parse_hire(data)
    assert (hire.start_date, hire.department, hire.location) == (None, None, "St. Louis, MO")


def test_the_deprecated_job_is_a_fallback_only() -> None:
    data = hire_data()
    application = data["payload"]["application"]
    application["job"]["name"] = "Old Name"
    assert parse_hire(copy.deepcopy(data)).role == "Data Platform Engineer"
    application["jobs"] = []
    assert parse_hire(data).role == "Old Name"


def test_an_other_email_stands_in_for_a_personal_one() -> None:
    data = hire_data()
    data["payload"]["application"]["candidate"]["email_addresses"] = [
        {"value": "work@example.com", "type": "work"}, {"value": "other@example.com", "type": "other"}]
    hire = parse_hire(data)
    assert (hire.personal_email, hire.work_email) == ("other@example.com", "work@example.com")


def test_a_hiring_manager_in_the_hiring_team() -> None:
    data = hire_data()
    job = data["payload"]["application"]["jobs"][0]
    job["hiring_team"] = {"hiring_managers": [{"user_id": 92913, "employee_id": "123ABC"}]}
    hire = parse_hire(copy.deepcopy(data))
    assert hire.manager is None  # the webhook's hiring team has ids only
    assert hire.external_ids["managerUserId"] == "92913"
    job["hiring_team"]["hiring_managers"][0].update(first_name="Mara", last_name="Manager")
    assert parse_hire(data).manager == "Mara Manager"


def test_a_missing_candidate_id_is_named() -> None:
    data = hire_data()
    del data["payload"]["application"]["candidate"]["id"]
    with pytest.raises(InvalidPayload) as exc:
        parse_hire(data)
    assert problem_fields(exc) == ["payload.application.candidate.id"]


def test_every_bad_field_is_named_without_its_value() -> None:
    data = hire_data()
    application = data["payload"]["application"]
    application["candidate"]["id"] = True
    application["candidate"]["first_name"] = ["Zoë"]
    application["candidate"]["email_addresses"] = [{"value": 42, "type": "personal"}, "zoe@example.com"]
    application["jobs"][0]["offices"] = "Berlin"
    with pytest.raises(InvalidPayload) as exc:
        parse_hire(data)
    assert sorted(problem_fields(exc)) == sorted([
        "payload.application.candidate.id",
        "payload.application.candidate.first_name",
        "payload.application.candidate.email_addresses[0].value",
        "payload.application.candidate.email_addresses[1]",
        "payload.application.jobs[0].offices",
    ])
    text = " ".join(f"{p.field} {p.message}" for p in exc.value.problems)
    assert "Zoë" not in text and "zoe@example.com" not in text and "Berlin" not in text


@pytest.mark.parametrize(("body", "field"), [
    (b"not json", "body"),
    (b"[1, 2]", "body"),
    (b'{"payload": {}}', "action"),
    (b'{"action": "hire_candidate"}', "payload"),
    (b'{"action": "hire_candidate", "payload": {"application": []}}', "payload.application"),
    (b'{"action": "unhire_candidate", "payload": {"application": {"candidate": {}}}}',
     "payload.application.candidate.id"),
    (b'{"action": "delete_candidate", "payload": {}}', "payload.person"),
])
def test_malformed_payloads_are_invalid(body: bytes, field: str) -> None:
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(signed(body))
    assert problem_fields(exc) == [field]
