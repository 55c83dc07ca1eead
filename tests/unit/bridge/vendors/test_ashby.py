"""Ashby: the samples' signatures (headers.json test vectors), their meaning, and completing a hire.

``complete`` is driven here with an in-memory ``VendorApi``; tests/integration/bridge/vendors/test_ashby_api.py
drives it over HTTP against the local Ashby protocol server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import pytest

from preboarding.bridge.vendor_api import (
    VendorApiBadAnswer,
    VendorApiNotFound,
    VendorApiUnauthorized,
    VendorApiUnavailable,
)
from preboarding.bridge.vendors.ashby import ADAPTER, ASHBY_API_URL, AshbyAdapter, rpc_results
from preboarding.bridge.vendors.base import (
    EventKind,
    InvalidPayload,
    NewHire,
    SignatureError,
    SignedRequest,
    VendorAdapter,
)
from tests.unit.bridge.vendors import VendorSamples, only

pytestmark = pytest.mark.unit

SAMPLES = VendorSamples("ashby")
SECRET = SAMPLES.secret("secret")
WEBHOOKS = SAMPLES.signed_files()
DEPARTMENT_ID = "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b"
LOCATION_ID = "6d7e8f9a-0b1c-4d2e-8f3a-4b5c6d7e8f9a"
CANDIDATE_ID = "f9e52a51-a075-4116-a7b8-484deba69004"


def signed(body: bytes) -> SignedRequest:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return SignedRequest(headers={"ashby-signature": f"sha256={digest}"}, body=body)


def hire_data() -> dict[str, Any]:
    data: dict[str, Any] = SAMPLES.json("hire.json")
    return data


def parse_hire(data: dict[str, Any]) -> NewHire:
    (event,) = ADAPTER.parse(signed(json.dumps(data).encode()))
    assert event.kind is EventKind.HIRE
    (hire,) = event.hires
    return hire


def sample_hire() -> NewHire:
    (hire,) = only(ADAPTER.parse(SAMPLES.request("hire.json"))).hires
    return hire


class FakeAshby:
    """``VendorApi`` answering Ashby's RPC calls from a dict: ``{method: {id: results}}``; records every call."""

    def __init__(self, records: Mapping[str, Mapping[str, Any]], answer: Any = None) -> None:
        self.records = records
        self.answer = answer  # when set, every call gets this answer
        self.calls: list[tuple[str, Any]] = []

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        raise AssertionError("Ashby's API is POST only")

    async def post(self, path: str, json: Any) -> Any:
        self.calls.append((path, json))
        if self.answer is not None:
            return self.answer
        (record_id,) = json.values()
        record = self.records.get(path, {}).get(record_id)
        if record is None:
            kind = path.split(".")[0]
            return {"success": False, "errors": [f"{kind}_not_found"],
                    "errorInfo": {"code": f"{kind}_not_found", "message": "not found"}}
        return {"success": True, "results": record}


def full_records() -> dict[str, dict[str, Any]]:
    candidate = SAMPLES.json("api-candidate-info.json")["results"]
    return {
        "department.info": {DEPARTMENT_ID: {"id": DEPARTMENT_ID, "name": "Data", "isArchived": False}},
        "location.info": {LOCATION_ID: {"id": LOCATION_ID, "name": "Berlin", "isArchived": False}},
        "candidate.info": {CANDIDATE_ID: candidate},
    }


def test_the_adapter_satisfies_the_protocol() -> None:
    adapter: VendorAdapter = ADAPTER
    assert isinstance(adapter, AshbyAdapter)
    assert adapter.default_api_url == ASHBY_API_URL == "https://api.ashbyhq.com"
    assert adapter.api_credentials("ashby-key") == ("ashby-key", "")


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
    request = SAMPLES.request("hire.json")
    compact = json.dumps(json.loads(request.body), separators=(",", ":")).encode()
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SignedRequest(request.headers, compact), SECRET, now=0)


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SAMPLES.request("hire.json"), "not-the-secret", now=0)


def test_a_missing_signature_header_is_refused() -> None:
    request = SAMPLES.request("hire.json")
    with pytest.raises(SignatureError, match="missing Ashby-Signature"):
        ADAPTER.verify(SignedRequest({"content-type": "application/json"}, request.body), SECRET, now=0)


@pytest.mark.parametrize("value", [
    "sha256 " + "0" * 64,  # Greenhouse's form, not Ashby's
    "sha512=" + "0" * 64,
    "sha256=" + "0" * 65,
    "sha256=" + "g" * 64,
    "=" + "0" * 64,
])
def test_a_malformed_signature_header_is_refused(value: str) -> None:
    request = SAMPLES.request("hire.json")
    with pytest.raises(SignatureError, match="sha256=<64 hex digits>"):
        ADAPTER.verify(SignedRequest({"ashby-signature": value}, request.body), SECRET, now=0)


def test_an_empty_secret_never_verifies() -> None:
    with pytest.raises(SignatureError, match="no webhook secret"):
        ADAPTER.verify(SAMPLES.request("ping.json"), "", now=0)


def test_an_unsigned_ping_is_not_accepted() -> None:
    # Failing it makes Ashby create the web hook disabled, telling the admin to set a secret token.
    assert not ADAPTER.unsigned_ping(SignedRequest({}, SAMPLES.body("ping.json")))


# -- events ----------------------------------------------------------------------------------------------


def test_hire_sample() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("hire.json"))
    assert (event.kind, event.action) == (EventKind.HIRE, "candidateHire")
    assert event.delivery_id == "candidateHire:75395d87-4044-4dc4-bc29-0cec185e5f06"
    assert event.hires == (NewHire(
        person_id=CANDIDATE_ID,
        name="Zoë Ångström-Núñez",
        personal_email="zoe.angstrom@example.com",
        role="Data Platform Engineer",
        start_date=dt.date(2026, 9, 14),  # from "2026-09-14T00:00:00.000Z"
        manager="Mara Manager",
        external_ids={
            "candidateId": CANDIDATE_ID,
            "applicationId": "5a0e2c9b-3a71-4d8e-9f0a-1c2b3d4e5f60",
            "offerId": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
            "jobId": "4071538b-3cac-4fbf-ac76-f78ed250ffdd",
            "departmentId": DEPARTMENT_ID,
            "locationId": LOCATION_ID,
            "managerUserId": "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
        },
    ),)


def test_ping_sample_without_an_action_id() -> None:
    request = SAMPLES.request("ping.json")
    (event,) = ADAPTER.parse(request)
    assert (event.kind, event.action) == (EventKind.PING, "ping")
    assert event.delivery_id == "sha256:" + hashlib.sha256(request.body).hexdigest()


def test_the_sibling_stage_change_is_ignored_under_its_own_delivery_id() -> None:
    (ignored,), (hire,) = ADAPTER.parse(SAMPLES.request("ignored.json")), ADAPTER.parse(SAMPLES.request("hire.json"))
    assert (ignored.kind, ignored.action, ignored.hires) == (EventKind.IGNORED, "candidateStageChange", ())
    assert ignored.delivery_id != hire.delivery_id  # same webhookActionId in both samples


def test_candidate_delete_removes_the_person() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("candidate-delete.json"))
    assert (event.kind, event.action, event.person_ids) == (EventKind.REMOVE, "candidateDelete", (CANDIDATE_ID,))


def test_offer_delete_is_ignored() -> None:
    # It names no candidate, and deleting the offer process does not un-hire the application.
    (event,) = ADAPTER.parse(SAMPLES.request("offer-delete.json"))
    assert (event.kind, event.person_ids) == (EventKind.IGNORED, ())


def test_candidate_merge_is_ignored() -> None:
    body = json.dumps({"webhookActionId": "a1", "action": "candidateMerge", "data": {
        "deletedCandidate": {"id": CANDIDATE_ID}, "mergedCandidate": {"id": "other"}}}).encode()
    (event,) = ADAPTER.parse(signed(body))
    assert (event.kind, event.action, event.person_ids) == (EventKind.IGNORED, "candidateMerge", ())


@pytest.mark.parametrize(("body", "field"), [
    (b"{", "body"),
    (b'"candidateHire"', "body"),
    (b'{"data": {}}', "action"),
    (b'{"action": "candidateHire"}', "data"),
    (b'{"action": "candidateHire", "data": {"application": {"candidate": {"name": "Zo\\u00eb"}}}}',
     "data.application.candidate.id"),
    (b'{"action": "candidateDelete", "data": {"candidate": []}}', "data.candidate"),
    (b'{"action": "candidateDelete", "data": {}}', "data.candidate"),
])
def test_malformed_payloads_are_invalid(body: bytes, field: str) -> None:
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(signed(body))
    assert [p.field for p in exc.value.problems] == [field]
    assert "Zo" not in " ".join(p.message for p in exc.value.problems)


# -- hire fields -----------------------------------------------------------------------------------------


def test_a_work_primary_address_is_the_work_email() -> None:
    data = hire_data()
    data["data"]["application"]["candidate"]["primaryEmailAddress"] = {
        "value": "zoe@work.example.com", "type": "Work", "isPrimary": True}
    hire = parse_hire(data)
    assert (hire.personal_email, hire.work_email) == (None, "zoe@work.example.com")


def test_a_plain_start_date_is_accepted() -> None:
    data = hire_data()
    data["data"]["offer"]["latestVersion"]["startDate"] = "2026-09-14"
    assert parse_hire(data).start_date == dt.date(2026, 9, 14)


def test_a_bad_start_date_names_the_field() -> None:
    data = hire_data()
    data["data"]["offer"]["latestVersion"]["startDate"] = "next monday"
    with pytest.raises(InvalidPayload) as exc:
        parse_hire(data)
    assert [p.field for p in exc.value.problems] == ["data.offer.latestVersion.startDate"]
    assert "monday" not in exc.value.problems[0].message


def test_a_hire_without_offer_job_or_team_is_usable() -> None:
    data = hire_data()
    del data["data"]["offer"]
    application = data["data"]["application"]
    del application["job"]
    application["hiringTeam"] = [{"role": "Recruiter", "firstName": "Rhea", "lastName": "Recruiter"}]
    hire = parse_hire(data)
    assert (hire.start_date, hire.role, hire.manager) == (None, None, None)
    assert set(hire.external_ids) == {"candidateId", "applicationId"}


def test_the_hiring_manager_role_is_matched_case_insensitively() -> None:
    data = hire_data()
    data["data"]["application"]["hiringTeam"] = [
        {"role": "Recruiter", "firstName": "Rhea", "lastName": "Recruiter", "userId": "u1"},
        {"role": "hiring manager", "firstName": "Mara", "lastName": "Manager", "userId": "u2"},
    ]
    hire = parse_hire(data)
    assert (hire.manager, hire.external_ids["managerUserId"]) == ("Mara Manager", "u2")


# -- completing through the API (in memory) --------------------------------------------------------------


def test_a_hire_with_ids_only_needs_a_lookup() -> None:
    hire = sample_hire()
    assert ADAPTER.needs_lookup(hire)
    assert not ADAPTER.needs_lookup(dataclasses.replace(
        hire, department="Data", location="Berlin", work_email="zoe@work.example.com"))
    assert not ADAPTER.needs_lookup(NewHire(person_id="p1"))  # no ids: nothing to look up


def test_complete_resolves_names_and_the_other_address() -> None:
    api = FakeAshby(full_records())
    completed = asyncio.run(ADAPTER.complete(sample_hire(), api))
    assert (completed.department, completed.location) == ("Data", "Berlin")
    assert (completed.personal_email, completed.work_email) == (
        "zoe.angstrom@example.com", "zoe.angstrom-nunez@work.example.com")
    assert api.calls == [
        ("department.info", {"departmentId": DEPARTMENT_ID}),
        ("location.info", {"locationId": LOCATION_ID}),
        ("candidate.info", {"id": CANDIDATE_ID}),
    ]
    assert not ADAPTER.needs_lookup(completed)
    assert dataclasses.replace(completed, department=None, location=None, work_email=None) == sample_hire()


def test_complete_asks_only_for_what_is_missing() -> None:
    api = FakeAshby(full_records())
    hire = dataclasses.replace(sample_hire(), department="Given", work_email="given@example.com")
    completed = asyncio.run(ADAPTER.complete(hire, api))
    assert (completed.department, completed.location, completed.work_email) == ("Given", "Berlin",
                                                                                "given@example.com")
    assert [path for path, _ in api.calls] == ["location.info"]


def test_unknown_records_leave_their_fields_empty() -> None:
    api = FakeAshby({})
    completed = asyncio.run(ADAPTER.complete(sample_hire(), api))
    assert completed == sample_hire()
    assert len(api.calls) == 3


@pytest.mark.parametrize(("answer", "error"), [
    ({"success": False, "errorInfo": {"code": "missing_endpoint_permission"}}, VendorApiUnauthorized),
    ({"success": False, "errors": ["rate_limit_exceeded"]}, VendorApiUnavailable),
    ({"success": False, "errorInfo": {"code": "invalid_input", "message": "Zoë is malformed"}}, VendorApiBadAnswer),
    ({"success": False, "errorInfo": {"code": "Zoë Ångström"}}, VendorApiBadAnswer),
    ({"success": True, "results": []}, VendorApiBadAnswer),
    ([], VendorApiBadAnswer),
])
def test_api_errors_propagate_without_ashby_s_message(answer: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as exc:
        asyncio.run(ADAPTER.complete(sample_hire(), FakeAshby({}, answer=answer)))
    assert "Zoë" not in str(exc.value)


def test_rpc_results_maps_not_found() -> None:
    with pytest.raises(VendorApiNotFound, match=r"department\.info .*department_not_found"):
        asyncio.run(rpc_results(FakeAshby({}), "department.info", {"departmentId": "nope"}))
