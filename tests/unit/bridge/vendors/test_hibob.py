"""HiBob: Bob-Signature (base64 HMAC-SHA512), the ping, v2 events and the people API mapping."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import pytest

from preboarding.api.sources import Vendor
from preboarding.bridge.vendor_api import VendorApiBadAnswer
from preboarding.bridge.vendors import hibob
from preboarding.bridge.vendors.base import (
    EventKind,
    InvalidPayload,
    NewHire,
    SignatureError,
    SignedRequest,
    VendorAdapter,
)
from preboarding.bridge.vendors.hibob import ADAPTER, PEOPLE_FIELDS, hire_from_people, is_ping
from tests.unit.bridge.vendors import VendorSamples, only

pytestmark = pytest.mark.unit

SAMPLES = VendorSamples("hibob")
SECRET = SAMPLES.secret("secret")
EMPLOYEE_ID = "3332883894235038486"
SIGNED = ["hire.json", "ignored.json", "deleted.json", "ping-fallback.json", "ping.txt"]


def unsigned(data: Any) -> SignedRequest:
    return SignedRequest(headers={}, body=json.dumps(data).encode())


def v2(event: str, **data: Any) -> dict[str, Any]:
    return {"companyId": 637323, "type": event, "triggeredBy": "3332883804594373380",
            "triggeredAt": "2026-08-20T16:46:14.399997", "version": "v2", "data": data}


def problems(exc: pytest.ExceptionInfo[InvalidPayload]) -> dict[str, str]:
    return {p.field: p.type for p in exc.value.problems}


# --- signature ---------------------------------------------------------------------------------------------


def test_the_adapter_is_a_vendor_adapter() -> None:
    adapter: VendorAdapter = ADAPTER
    assert adapter.vendor is Vendor.HIBOB
    assert adapter.default_api_url == "https://api.hibob.com/v1"


@pytest.mark.parametrize("name", SIGNED)
def test_every_sample_verifies_with_the_test_secret(name: str) -> None:
    ADAPTER.verify(SAMPLES.request(name), SECRET, now=0)


def test_sign_is_base64_of_hmac_sha512() -> None:
    body = SAMPLES.body("hire.json")
    digest = hmac.new(SECRET.encode(), body, hashlib.sha512).digest()
    expected = SAMPLES.headers("hire.json")["bob-signature"]
    assert hibob.sign(SECRET, body) == base64.b64encode(digest).decode() == expected


def test_a_tampered_body_is_refused() -> None:
    body = SAMPLES.body("hire.json").replace(b"created", b"deleted")
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SAMPLES.request("hire.json", body), SECRET, now=0)


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SAMPLES.request("hire.json"), "another-secret", now=0)


def test_a_missing_header_is_refused() -> None:
    with pytest.raises(SignatureError, match="missing Bob-Signature"):
        ADAPTER.verify(SignedRequest({}, SAMPLES.body("hire.json")), SECRET, now=0)


def test_a_hex_signature_is_not_base64_of_the_digest() -> None:
    body = SAMPLES.body("hire.json")
    hex_signature = hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()
    with pytest.raises(SignatureError):
        ADAPTER.verify(SignedRequest({"bob-signature": hex_signature}, body), SECRET, now=0)
    with pytest.raises(SignatureError, match="not base64"):
        ADAPTER.verify(SignedRequest({"bob-signature": "%%%"}, body), SECRET, now=0)


# --- the ping ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"Ping test", b"Ping test\n", b'{"text":"Ping test"}', b'{ "text": "Ping test" }',
                                  b'"Ping test"'])
def test_the_ping_is_answered_without_a_signature(body: bytes) -> None:
    assert is_ping(body)
    assert ADAPTER.unsigned_ping(SignedRequest({}, body))
    assert only(ADAPTER.parse(SignedRequest({}, body))).kind is EventKind.PING


@pytest.mark.parametrize("name", ["ping.txt", "ping-fallback.json"])
def test_the_ping_samples_are_pings(name: str) -> None:
    assert ADAPTER.unsigned_ping(SAMPLES.request(name))
    (event,) = ADAPTER.parse(SAMPLES.request(name))
    assert (event.kind, event.delivery_id) == (EventKind.PING, None)


@pytest.mark.parametrize("body", [b"Ping test please", b'{"text":"Ping test","type":"employee.created"}',
                                  b"Ping test" + b" " * 100])
def test_other_bodies_are_not_pings(body: bytes) -> None:
    assert not is_ping(body)
    assert not ADAPTER.unsigned_ping(SignedRequest({}, body))
    assert not ADAPTER.unsigned_ping(SAMPLES.request("hire.json"))


# --- parsing -----------------------------------------------------------------------------------------------


def test_employee_created_is_a_hire_with_ids_only() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("hire.json"))
    assert (event.kind, event.action) == (EventKind.HIRE, "employee.created")
    (hire,) = event.hires
    assert hire.person_id == EMPLOYEE_ID
    assert dict(hire.external_ids) == {"employeeId": EMPLOYEE_ID, "companyId": "637323"}
    assert ADAPTER.needs_lookup(hire)


def test_employee_updated_is_an_update() -> None:
    (event,) = ADAPTER.parse(unsigned(v2("employee.updated", employeeId=EMPLOYEE_ID, fieldUpdates=["work.title"])))
    assert (event.kind, [h.person_id for h in event.hires]) == (EventKind.UPDATE, [EMPLOYEE_ID])


def test_employee_deleted_removes() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("deleted.json"))
    assert (event.kind, event.person_ids) == (EventKind.REMOVE, (EMPLOYEE_ID,))


def test_employee_left_removes_but_inactivated_does_not() -> None:
    assert only(ADAPTER.parse(unsigned(v2("employee.left", employeeId=EMPLOYEE_ID)))).kind is EventKind.REMOVE
    assert only(ADAPTER.parse(unsigned(v2("employee.inactivated", employeeId=EMPLOYEE_ID)))).kind is EventKind.IGNORED


def test_table_events_and_joined_are_ignored() -> None:
    assert only(ADAPTER.parse(SAMPLES.request("ignored.json"))).kind is EventKind.IGNORED
    assert only(ADAPTER.parse(unsigned(v2("employee.joined", employeeId=EMPLOYEE_ID)))).kind is EventKind.IGNORED


def test_the_delivery_id_is_a_digest_of_type_company_employee_and_time() -> None:
    first = only(ADAPTER.parse(SAMPLES.request("hire.json"))).delivery_id
    assert first and len(first) == 64 and EMPLOYEE_ID not in first
    assert only(ADAPTER.parse(unsigned(SAMPLES.json("hire.json")))).delivery_id == first
    assert only(ADAPTER.parse(unsigned(v2("employee.created", employeeId="1")))).delivery_id != first
    assert only(ADAPTER.parse(SAMPLES.request("deleted.json"))).delivery_id != first


def test_a_numeric_employee_id_is_read_as_a_string() -> None:
    assert only(ADAPTER.parse(unsigned(v2("employee.created", employeeId=42)))).hires[0].person_id == "42"


@pytest.mark.parametrize(
    ("body", "field", "kind"),
    [
        (v2("employee.created"), "data.employeeId", "missing"),
        (v2("employee.deleted", employeeId="a/../b"), "data.employeeId", "id"),
        ({"type": "employee.created", "data": "x"}, "data", "missing"),
        ({"data": {"employeeId": EMPLOYEE_ID}}, "type", "missing"),
        (["employee.created"], "body", "dict_type"),
    ],
)
def test_malformed_payloads_name_the_field(body: Any, field: str, kind: str) -> None:
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(unsigned(body))
    assert problems(exc) == {field: kind}
    assert all("a/../b" not in p.message for p in exc.value.problems)


def test_a_body_that_is_not_json_nor_the_ping_is_invalid() -> None:
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(SignedRequest({}, b"Pong test"))
    assert problems(exc) == {"body": "json_invalid"}


# --- mapping the API answer --------------------------------------------------------------------------------


def people_sample() -> Any:
    return SAMPLES.json("api-people.json")


def test_the_people_answer_maps_into_a_new_hire() -> None:
    hire = hire_from_people(people_sample(), NewHire(person_id=EMPLOYEE_ID, external_ids={"employeeId": EMPLOYEE_ID}))
    assert hire == NewHire(
        person_id=EMPLOYEE_ID, name="Zoë Ångström-Núñez", first_name="Zoë", last_name="Ångström-Núñez",
        work_email="zoe.angstrom-nunez@work.example.com", personal_email="zoe.angstrom@example.com",
        role="Data Platform Engineer", department="Data", location="Berlin", start_date=dt.date(2026, 9, 14),
        manager="Mara Manager", external_ids={"employeeId": EMPLOYEE_ID},
    )


def test_a_human_readable_manager_may_be_a_plain_name() -> None:
    answer = {"id": EMPLOYEE_ID, "work": {"reportsTo": "Mara Manager"}}
    assert hire_from_people(answer, NewHire(EMPLOYEE_ID)).manager == "Mara Manager"


def test_missing_optional_fields_stay_empty() -> None:
    hire = hire_from_people({"id": EMPLOYEE_ID, "firstName": "Tomás", "work": None}, NewHire(EMPLOYEE_ID))
    assert hire == NewHire(person_id=EMPLOYEE_ID, first_name="Tomás")
    assert hire.full_name() == "Tomás"


@pytest.mark.parametrize("answer", [{"id": "1"}, {"firstName": "no id"}, [], "text"])
def test_an_answer_for_another_employee_is_a_bad_answer(answer: Any) -> None:
    with pytest.raises(VendorApiBadAnswer):
        hire_from_people(answer, NewHire(EMPLOYEE_ID))


def test_an_unreadable_start_date_is_a_bad_answer() -> None:
    with pytest.raises(VendorApiBadAnswer, match="startDate"):
        hire_from_people({"id": EMPLOYEE_ID, "work": {"startDate": "soon"}}, NewHire(EMPLOYEE_ID))


# --- credentials and the lookup ----------------------------------------------------------------------------


def test_the_token_secret_is_service_user_id_and_token() -> None:
    assert ADAPTER.api_credentials("SERVICE-123:tok:en") == ("SERVICE-123", "tok:en")
    assert ADAPTER.api_credentials(" SERVICE-123:token\n") == ("SERVICE-123", "token")


@pytest.mark.parametrize("token", ["only-a-token", ":token", "SERVICE-123:"])
def test_a_token_secret_in_another_form_is_refused_without_echoing_it(token: str) -> None:
    with pytest.raises(ValueError, match="service user id") as exc:
        ADAPTER.api_credentials(token)
    assert "only-a-token" not in str(exc.value)


class FakeBob:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        raise AssertionError("the people read is a POST")

    async def post(self, path: str, json: Any) -> Any:
        self.calls.append((path, json))
        return people_sample()


def test_complete_posts_the_fields_with_human_readable_replace() -> None:
    api = FakeBob()
    hire = asyncio.run(ADAPTER.complete(only(ADAPTER.parse(SAMPLES.request("hire.json"))).hires[0], api))
    assert api.calls == [(f"people/{EMPLOYEE_ID}", {"fields": list(PEOPLE_FIELDS), "humanReadable": "REPLACE"})]
    assert {"root.firstName", "root.surname", "root.email", "work.startDate"} <= set(PEOPLE_FIELDS)
    assert hire.department == "Data"
