"""BambooHR: signature over body + timestamp, the freshness window, both payload families, the API mapping."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pytest

from preboarding.api.sources import Vendor
from preboarding.bridge.vendor_api import VendorApiBadAnswer
from preboarding.bridge.vendors import bamboohr
from preboarding.bridge.vendors.bamboohr import ADAPTER, EMPLOYEE_FIELDS, hire_from_employee, parse_timestamp
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

SAMPLES = VendorSamples("bamboohr")
SECRET = SAMPLES.secret("private_key")
SENT = 1787241960  # X-BambooHR-Timestamp of every sample
SIGNED = ["hire.json", "ignored.json", "deleted.json", "field-based-created.json", "field-based-updated.json"]


def unsigned(data: Any) -> SignedRequest:
    """A delivery for parse() only (parse never looks at the signature)."""
    return SignedRequest(headers={}, body=json.dumps(data, ensure_ascii=False).encode())


def problems(exc: pytest.ExceptionInfo[InvalidPayload]) -> dict[str, str]:
    return {p.field: p.type for p in exc.value.problems}


# --- signature ---------------------------------------------------------------------------------------------


def test_the_adapter_is_a_vendor_adapter_whose_api_url_must_name_the_company() -> None:
    adapter: VendorAdapter = ADAPTER
    assert adapter.vendor is Vendor.BAMBOOHR
    assert adapter.default_api_url is None
    assert "gateway.php/<company>" in (bamboohr.BambooHRAdapter.__doc__ or "") + (bamboohr.__doc__ or "")
    assert adapter.api_credentials("API-KEY") == ("API-KEY", "x")
    assert not adapter.unsigned_ping(SAMPLES.request("hire.json"))


@pytest.mark.parametrize("name", SIGNED)
def test_every_sample_verifies_with_the_test_key(name: str) -> None:
    ADAPTER.verify(SAMPLES.request(name), SECRET, now=SENT + 30)


def test_a_tampered_body_is_refused() -> None:
    body = SAMPLES.body("hire.json").replace(b"4711", b"4712")
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SAMPLES.request("hire.json", body), SECRET, now=SENT)


def test_the_timestamp_is_covered_by_the_signature() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SAMPLES.request("hire.json", x_bamboohr_timestamp=str(SENT + 1)), SECRET, now=SENT)


def test_a_wrong_key_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SAMPLES.request("hire.json"), "another-private-key", now=SENT)


@pytest.mark.parametrize("header", ["x-bamboohr-signature", "x-bamboohr-timestamp"])
def test_a_missing_header_is_refused(header: str) -> None:
    signed = SAMPLES.request("hire.json")
    headers = {k: v for k, v in signed.headers.items() if k != header}
    with pytest.raises(SignatureError, match="missing X-BambooHR-Signature or X-BambooHR-Timestamp"):
        ADAPTER.verify(SignedRequest(headers, signed.body), SECRET, now=SENT)


def test_a_stale_timestamp_is_refused() -> None:
    with pytest.raises(SignatureError, match="more than 3 hours old"):
        ADAPTER.verify(SAMPLES.request("hire.json"), SECRET, now=SENT + 3 * 3600 + 1)


def test_the_last_retry_is_still_accepted_if_retries_keep_the_first_timestamp() -> None:
    # 5 + 10 + 20 + 40 + 80 minutes after the first attempt.
    ADAPTER.verify(SAMPLES.request("hire.json"), SECRET, now=SENT + 155 * 60)


def test_a_timestamp_from_the_future_is_refused() -> None:
    with pytest.raises(SignatureError, match="future"):
        ADAPTER.verify(SAMPLES.request("hire.json"), SECRET, now=SENT - 301)


def test_an_iso_8601_timestamp_is_read_too() -> None:
    body = SAMPLES.body("hire.json")
    stamp = "2026-08-20T16:46:00+0000"
    signed = SignedRequest({"x-bamboohr-timestamp": stamp, "x-bamboohr-signature": bamboohr.sign(SECRET, body, stamp)},
                           body)
    at = dt.datetime(2026, 8, 20, 16, 46, tzinfo=dt.UTC).timestamp()
    ADAPTER.verify(signed, SECRET, now=at + 60)
    with pytest.raises(SignatureError, match="old"):
        ADAPTER.verify(signed, SECRET, now=at + 4 * 3600)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1787241960", 1787241960.0),
        (" 1787241960.5 ", 1787241960.5),
        ("2026-08-20T16:46:00+0000", dt.datetime(2026, 8, 20, 16, 46, tzinfo=dt.UTC).timestamp()),
        ("2026-08-20T18:46:00+02:00", dt.datetime(2026, 8, 20, 16, 46, tzinfo=dt.UTC).timestamp()),
        ("2026-08-20T16:46:00", dt.datetime(2026, 8, 20, 16, 46, tzinfo=dt.UTC).timestamp()),  # no offset: UTC
        ("yesterday", None),
        ("-5", None),
    ],
)
def test_timestamps_in_both_formats(text: str, expected: float | None) -> None:
    assert parse_timestamp(text) == expected


def test_an_unreadable_timestamp_is_refused() -> None:
    with pytest.raises(SignatureError, match="Unix seconds or an ISO 8601"):
        ADAPTER.verify(SAMPLES.request("hire.json", x_bamboohr_timestamp="soon"), SECRET, now=SENT)


# --- event-based payloads ----------------------------------------------------------------------------------


def test_employee_created_is_a_hire_with_ids_only() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("hire.json"))
    assert (event.kind, event.action) == (EventKind.HIRE, "employee.created")
    (hire,) = event.hires
    assert hire.person_id == "4711"
    assert dict(hire.external_ids) == {"employeeId": "4711", "companyId": "12345"}
    assert ADAPTER.needs_lookup(hire)


def test_employee_updated_is_an_update_that_is_looked_up() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("ignored.json"))
    assert (event.kind, event.action) == (EventKind.UPDATE, "employee.updated")
    assert [h.person_id for h in event.hires] == ["4711"]
    assert ADAPTER.needs_lookup(event.hires[0])


def test_employee_deleted_removes() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("deleted.json"))
    assert (event.kind, event.person_ids) == (EventKind.REMOVE, ("4711",))


def test_other_event_types_are_ignored() -> None:
    (event,) = ADAPTER.parse(unsigned({"type": "company.integrations.updated", "timestamp": "x", "data": {}}))
    assert (event.kind, event.action) == (EventKind.IGNORED, "company.integrations.updated")


def test_the_delivery_id_is_a_digest_of_type_company_employee_and_event_time() -> None:
    first = only(ADAPTER.parse(SAMPLES.request("hire.json"))).delivery_id
    assert first and len(first) == 64 and "4711" not in first
    assert only(ADAPTER.parse(SAMPLES.request("hire.json"))).delivery_id == first  # a redelivery is the same delivery
    other = SAMPLES.json("hire.json")
    other["data"]["employeeId"] = "4712"
    assert only(ADAPTER.parse(unsigned(other))).delivery_id != first
    later = SAMPLES.json("hire.json")
    later["timestamp"] = "2026-08-21T09:00:00+0000"
    assert only(ADAPTER.parse(unsigned(later))).delivery_id != first
    assert only(ADAPTER.parse(SAMPLES.request("ignored.json"))).delivery_id != first


def test_a_numeric_employee_id_is_read_as_a_string() -> None:
    (event,) = ADAPTER.parse(unsigned({"type": "employee.created", "data": {"companyId": 12345, "employeeId": 4711}}))
    assert event.hires[0].person_id == "4711"
    assert event.hires[0].external_ids["companyId"] == "12345"


@pytest.mark.parametrize(
    ("data", "field", "kind"),
    [
        ({"type": "employee.created", "data": {"companyId": "1"}}, "data.employeeId", "missing"),
        ({"type": "employee.deleted", "data": {"employeeId": "../secret"}}, "data.employeeId", "id"),
        ({"type": "employee.created"}, "data", "missing"),
        ({"type": ""}, "type", "string_type"),
        ({"something": "else"}, "type", "missing"),
        ([1, 2], "body", "dict_type"),
    ],
)
def test_malformed_event_payloads_name_the_field(data: Any, field: str, kind: str) -> None:
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(unsigned(data))
    assert problems(exc) == {field: kind}
    assert all("secret" not in p.message for p in exc.value.problems)


def test_a_form_post_body_asks_for_json() -> None:
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(SignedRequest({}, b"type=employee.created&data[employeeId]=4711"))
    assert exc.value.problems[0].field == "body"
    assert "JSON" in exc.value.problems[0].message


# --- field-based payloads ----------------------------------------------------------------------------------


def test_several_created_employees_in_one_post_are_one_hire_each() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("field-based-created.json"))
    assert (event.kind, event.action) == (EventKind.HIRE, "employee_with_fields.created")
    assert [h.person_id for h in event.hires] == ["4711", "4712"]
    assert all(ADAPTER.needs_lookup(h) for h in event.hires)  # Created arrives with empty fields
    assert event.delivery_id and len(event.delivery_id) == 64


def test_updated_employees_carry_their_fields_with_non_ascii_names() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("field-based-updated.json"))
    assert (event.kind, event.action) == (EventKind.UPDATE, "employee_with_fields.updated")
    zoe, tomas = event.hires
    assert zoe == NewHire(person_id="4711", first_name="Zoë", last_name="Ångström-Núñez",
                          work_email="zoe.angstrom-nunez@work.example.com", role="Data Platform Engineer",
                          department="Data", location="Berlin", start_date=dt.date(2026, 9, 14),
                          external_ids={"employeeId": "4711"})
    assert (tomas.full_name(), tomas.start_date) == ("Tomás Example", dt.date(2026, 9, 21))
    assert not ADAPTER.needs_lookup(zoe)  # the signed fields are the data


def test_field_aliases_are_read_like_display_names() -> None:
    fields = {"firstName": "Zoë", "preferredName": "Zo", "lastName": "Ångström", "homeEmail": "zoe@example.com",
              "hireDate": "2026-09-14"}
    (event,) = ADAPTER.parse(unsigned({"employees": [{"action": "Updated", "id": "4711", "fields": fields}]}))
    hire = event.hires[0]
    assert (hire.first_name, hire.last_name, hire.personal_email, hire.start_date) == (
        "Zo", "Ångström", "zoe@example.com", dt.date(2026, 9, 14))


def test_created_then_updated_in_one_post_is_a_hire_with_the_fields() -> None:
    employees = [{"action": "Created", "id": "4711", "fields": {}},
                 {"action": "Updated", "id": "4711", "fields": {"First Name": "Zoë", "Hire Date": "2026-09-14"}},
                 {"action": "Created", "id": "4712", "fields": {}}]
    (event,) = ADAPTER.parse(unsigned({"employees": employees}))
    assert event.kind is EventKind.HIRE
    assert [(h.person_id, h.first_name) for h in event.hires] == [("4711", "Zoë"), ("4712", None)]


def test_deleted_employees_are_removed() -> None:
    employees = [{"action": "Deleted", "id": "4711", "fields": {}}, {"action": "Deleted", "id": "4712"}]
    (event,) = ADAPTER.parse(unsigned({"employees": employees}))
    assert (event.kind, event.person_ids) == (EventKind.REMOVE, ("4711", "4712"))


def test_a_post_mixing_kinds_is_split_into_one_event_per_kind() -> None:
    employees = [{"action": "Created", "id": "4711", "fields": {}}, {"action": "Deleted", "id": "1001", "fields": {}},
                 {"action": "Updated", "id": "1002", "fields": {"Job Title": "Lead"}}]
    events = ADAPTER.parse(unsigned({"employees": employees}))
    assert [(e.kind, e.hires[0].person_id if e.hires else e.person_ids) for e in events] == [
        (EventKind.HIRE, "4711"), (EventKind.UPDATE, "1002"), (EventKind.REMOVE, ("1001",))]
    assert len({e.delivery_id for e in events}) == 1


def test_an_empty_or_unknown_batch_is_ignored() -> None:
    assert only(ADAPTER.parse(unsigned({"employees": []}))).kind is EventKind.IGNORED
    assert only(ADAPTER.parse(unsigned({"employees": [{"action": "Renamed", "id": "4711"}]}))).kind is EventKind.IGNORED


def test_bad_field_based_entries_are_named_by_their_path_without_values() -> None:
    employees = [{"action": "Updated", "id": "4711", "fields": {"Hire Date": "14 Sept, secretly"}},
                 {"action": "Created"},
                 {"id": "4713"},
                 "not an object",
                 {"action": "Updated", "id": "4714", "fields": ["no"]}]
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(unsigned({"employees": employees}))
    assert problems(exc) == {"employees[0].fields.Hire Date": "date", "employees[1].id": "missing",
                             "employees[2].action": "missing", "employees[3]": "dict_type",
                             "employees[4].fields": "dict_type"}
    assert all("secretly" not in p.message for p in exc.value.problems)


def test_employees_must_be_a_list() -> None:
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(unsigned({"employees": {"4711": {}}}))
    assert problems(exc) == {"employees": "list_type"}


# --- mapping the API answer --------------------------------------------------------------------------------


def test_the_employee_answer_maps_into_a_new_hire() -> None:
    hire = hire_from_employee(SAMPLES.json("api-employee.json"),
                              NewHire(person_id="4711", external_ids={"employeeId": "4711", "companyId": "12345"}))
    assert hire == NewHire(
        person_id="4711", first_name="Zoë", last_name="Ångström-Núñez",
        work_email="zoe.angstrom-nunez@work.example.com", personal_email="zoe.angstrom@example.com",
        role="Data Platform Engineer", department="Data", location="Berlin", start_date=dt.date(2026, 9, 14),
        manager="Mara Manager", external_ids={"employeeId": "4711", "companyId": "12345"},
    )


def test_the_preferred_name_is_the_first_name() -> None:
    hire = hire_from_employee({"id": "4711", "firstName": "Robert", "preferredName": "Bob"}, NewHire("4711"))
    assert hire.first_name == "Bob"


def test_missing_fields_keep_what_the_webhook_had() -> None:
    known = NewHire(person_id="4711", first_name="Zoë", role="Engineer")
    hire = hire_from_employee({"id": "4711", "hireDate": "0000-00-00", "supervisor": None}, known)
    assert hire == known


@pytest.mark.parametrize("answer", [{"id": "4712"}, {"firstName": "no id"}, [], None])
def test_an_answer_for_another_employee_is_a_bad_answer(answer: Any) -> None:
    with pytest.raises(VendorApiBadAnswer):
        hire_from_employee(answer, NewHire("4711"))


def test_an_unreadable_hire_date_is_a_bad_answer() -> None:
    with pytest.raises(VendorApiBadAnswer, match="hireDate"):
        hire_from_employee({"id": "4711", "hireDate": "soon"}, NewHire("4711"))


class FakeBambooHR:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        self.calls.append((path, dict(params or {})))
        return SAMPLES.json("api-employee.json")

    async def post(self, path: str, json: Any) -> Any:
        raise AssertionError("BambooHR lookups are GETs")


def test_complete_asks_for_named_fields_including_future_dated_ones() -> None:
    api = FakeBambooHR()
    hire = asyncio.run(ADAPTER.complete(only(ADAPTER.parse(SAMPLES.request("hire.json"))).hires[0], api))
    ((path, params),) = api.calls
    assert path == "v1/employees/4711/"
    assert params["onlyCurrent"] == "false"
    assert set(params["fields"].split(",")) == set(EMPLOYEE_FIELDS) >= {"firstName", "workEmail", "hireDate"}
    assert hire.full_name() == "Zoë Ångström-Núñez"
