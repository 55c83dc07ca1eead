"""Generic sources: each signature scheme, JMESPath mappings, hireEvents filtering and configuration errors."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
from standardwebhooks import Webhook

from preboarding.api.sources import GenericMapping, SignatureSpec
from preboarding.bridge.signatures import SecretFormatError
from preboarding.bridge.vendors.base import (
    EventKind,
    InvalidPayload,
    NewHire,
    SignatureError,
    SignedRequest,
    VendorAdapter,
    VendorEvent,
)
from preboarding.bridge.vendors.generic import GenericAdapter
from tests.unit.bridge.vendors import only

pytestmark = pytest.mark.unit

NOW = 1_800_000_000
WHSEC = "whsec_" + base64.b64encode(b"generic-source-test-key-32bytes!").decode()
HMAC_SECRET = "plain-hmac-secret"
TOKEN = "bearer-token-for-a-generic-source"

PAYLOAD: dict[str, Any] = {
    "type": "employee.hired",
    "employee": {
        "id": 4711,
        "name": {"first": "Zoë", "last": "Ångström-Núñez"},
        "emails": [{"kind": "work", "address": "zoe@work.example.com"},
                   {"kind": "home", "address": "zoe@example.com"}],
        "job": {"title": "Data Platform Engineer", "department": "Data", "team": "Platform", "site": "Berlin"},
        "manager": {"name": "Mara Manager"},
        "startsOn": "09/14/2026",
    },
}
BODY = json.dumps(PAYLOAD, ensure_ascii=False).encode()

MAPPING = GenericMapping.model_validate({
    "id": "employee.id",
    "firstName": "employee.name.first",
    "lastName": "employee.name.last",
    "personalEmail": "employee.emails[?kind=='home'].address",
    "workEmail": "employee.emails[?kind=='work'].address | [0]",
    "role": "employee.job.title",
    "department": "employee.job.department",
    "team": "employee.job.team",
    "location": "employee.job.site",
    "manager": "employee.manager.name",
    "startDate": "employee.startsOn",
    "event": "type",
    "hireEvents": ["employee.hired", "employee.rehired"],
})
HIRE = NewHire(
    person_id="4711",
    first_name="Zoë",
    last_name="Ångström-Núñez",
    personal_email="zoe@example.com",
    work_email="zoe@work.example.com",
    role="Data Platform Engineer",
    department="Data",
    team="Platform",
    location="Berlin",
    manager="Mara Manager",
    start_date=dt.date(2026, 9, 14),
)


def adapter(mapping: GenericMapping | dict[str, Any] = MAPPING, /, **signature: Any) -> GenericAdapter:
    if isinstance(mapping, dict):
        mapping = GenericMapping.model_validate(mapping)
    return GenericAdapter(mapping, SignatureSpec.model_validate(signature or {"scheme": "bearer"}))


def bearer(body: bytes = BODY, /, **headers: str) -> SignedRequest:
    return SignedRequest({"authorization": f"Bearer {TOKEN}", **headers}, body)


def standard_headers(body: bytes = BODY, secret: str = WHSEC, msg_id: str = "msg_1", at: int = NOW) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id, dt.datetime.fromtimestamp(at, dt.UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(at), "webhook-signature": signature}


def hex_signature(body: bytes = BODY, secret: str = HMAC_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def parse(data: Any, mapping: GenericMapping | dict[str, Any] = MAPPING) -> VendorEvent:
    (event,) = adapter(mapping).parse(bearer(json.dumps(data).encode()))
    return event


def problems(exc: pytest.ExceptionInfo[InvalidPayload]) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in exc.value.problems]


def test_the_adapter_satisfies_the_protocol() -> None:
    generic: VendorAdapter = adapter()
    assert generic.default_api_url is None
    assert not generic.unsigned_ping(SignedRequest({}, BODY))
    hire = only(generic.parse(bearer())).hires[0]
    assert not generic.needs_lookup(hire)
    assert asyncio.run(generic.complete(hire, api=None)) is hire  # type: ignore[arg-type]


# -- standard-webhooks -----------------------------------------------------------------------------------

STANDARD = {"scheme": "standard-webhooks"}


def test_standard_webhooks_signature_verifies() -> None:
    adapter(**STANDARD).verify(SignedRequest(standard_headers(), BODY), WHSEC, NOW)


def test_standard_webhooks_tampered_body_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        adapter(**STANDARD).verify(SignedRequest(standard_headers(), BODY.replace(b"4711", b"4712")), WHSEC, NOW)


def test_standard_webhooks_wrong_secret_is_refused() -> None:
    other = "whsec_" + base64.b64encode(b"another-key-of-thirty-two-bytes!").decode()
    with pytest.raises(SignatureError, match="does not match"):
        adapter(**STANDARD).verify(SignedRequest(standard_headers(secret=other), BODY), WHSEC, NOW)


def test_standard_webhooks_missing_headers_are_refused() -> None:
    with pytest.raises(SignatureError, match="missing webhook-id"):
        adapter(**STANDARD).verify(bearer(), WHSEC, NOW)


def test_standard_webhooks_old_timestamp_is_refused() -> None:
    with pytest.raises(SignatureError, match="old"):
        adapter(**STANDARD).verify(SignedRequest(standard_headers(at=NOW - 3600), BODY), WHSEC, NOW)


def test_standard_webhooks_secret_must_be_whsec() -> None:
    with pytest.raises(SecretFormatError):
        adapter(**STANDARD).verify(SignedRequest(standard_headers(), BODY), "not-a-whsec-secret", NOW)


def test_standard_webhooks_delivery_id_is_the_webhook_id() -> None:
    (event,) = adapter(**STANDARD).parse(SignedRequest(standard_headers(msg_id="msg_42"), BODY))
    assert event.delivery_id == "msg_42"


# -- hmac-sha256-hex -------------------------------------------------------------------------------------

HEX = {"scheme": "hmac-sha256-hex", "header": "X-Signature", "prefix": "sha256="}


def test_hmac_hex_signature_verifies_in_either_case() -> None:
    for digest in (hex_signature(), hex_signature().upper()):
        adapter(**HEX).verify(SignedRequest({"x-signature": f"sha256={digest}"}, BODY), HMAC_SECRET, NOW)
    adapter(**HEX).verify(SignedRequest({"x-signature": f"SHA256={hex_signature()}"}, BODY), HMAC_SECRET, NOW)


def test_hmac_hex_without_prefix() -> None:
    spec = {"scheme": "hmac-sha256-hex", "header": "X-Hub-Digest"}
    adapter(**spec).verify(SignedRequest({"x-hub-digest": hex_signature()}, BODY), HMAC_SECRET, NOW)


def test_hmac_hex_tampered_body_is_refused() -> None:
    request = SignedRequest({"x-signature": f"sha256={hex_signature()}"}, BODY + b" ")
    with pytest.raises(SignatureError, match="X-Signature does not match"):
        adapter(**HEX).verify(request, HMAC_SECRET, NOW)


def test_hmac_hex_wrong_secret_is_refused() -> None:
    request = SignedRequest({"x-signature": f"sha256={hex_signature(secret='other')}"}, BODY)
    with pytest.raises(SignatureError, match="does not match"):
        adapter(**HEX).verify(request, HMAC_SECRET, NOW)


def test_hmac_hex_missing_header_is_refused() -> None:
    with pytest.raises(SignatureError, match="missing X-Signature header"):
        adapter(**HEX).verify(bearer(), HMAC_SECRET, NOW)


@pytest.mark.parametrize(("value", "reason"), [
    ("sha1=" + "0" * 64, "must start with 'sha256='"),
    ("0" * 64, "must start with 'sha256='"),
    ("sha256=" + "0" * 40, "64 hex digits"),
    ("sha256=" + "x" * 64, "64 hex digits"),
])
def test_hmac_hex_malformed_header_is_refused(value: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        adapter(**HEX).verify(SignedRequest({"x-signature": value}, BODY), HMAC_SECRET, NOW)


def test_hmac_hex_needs_a_header() -> None:
    with pytest.raises(ValueError, match=r"signature\.header"):
        adapter(scheme="hmac-sha256-hex")


# -- bearer ----------------------------------------------------------------------------------------------


def test_bearer_token_is_accepted() -> None:
    adapter().verify(bearer(), TOKEN, NOW)


@pytest.mark.parametrize("authorization", [f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer ", None])
def test_wrong_or_missing_bearer_token_is_refused(authorization: str | None) -> None:
    headers = {"authorization": authorization} if authorization is not None else {}
    with pytest.raises(SignatureError, match="Bearer"):
        adapter().verify(SignedRequest(headers, BODY), TOKEN, NOW)


def test_an_empty_secret_never_verifies() -> None:
    with pytest.raises(SignatureError, match="no webhook secret"):
        adapter().verify(SignedRequest({"authorization": "Bearer "}, BODY), "", NOW)


# -- delivery ids ----------------------------------------------------------------------------------------


def test_a_configured_delivery_id_header_wins() -> None:
    generic = adapter(scheme="standard-webhooks", deliveryIdHeader="X-Delivery")
    headers = {**standard_headers(msg_id="msg_1"), "x-delivery": "d-99"}
    assert only(generic.parse(SignedRequest(headers, BODY))).delivery_id == "d-99"


def test_without_an_id_header_the_delivery_id_is_a_body_digest() -> None:
    generic = adapter(scheme="bearer", deliveryIdHeader="X-Delivery")
    expected = "sha256:" + hashlib.sha256(BODY).hexdigest()
    assert only(generic.parse(bearer())).delivery_id == expected
    assert only(generic.parse(bearer(**{"x-delivery": "not printable ascii é"}))).delivery_id == expected


# -- mapping ---------------------------------------------------------------------------------------------


def test_the_mapping_finds_every_field() -> None:
    (event,) = adapter().parse(bearer())
    assert (event.kind, event.action, event.hires) == (EventKind.HIRE, "employee.hired", (HIRE,))


def test_unmapped_and_empty_fields_are_missing() -> None:
    mapping = {"id": "person", "name": "fullName", "role": "title", "startDate": "start"}
    hire = parse({"person": "p-1", "fullName": "Zoë Ångström", "title": "  ", "start": "2026-09-14"}, mapping)
    assert hire.hires == (NewHire(person_id="p-1", name="Zoë Ångström", start_date=dt.date(2026, 9, 14)),)


def test_email_fills_the_personal_address_when_personal_email_is_unmapped() -> None:
    mapping = {"id": "id", "email": "email", "workEmail": "work", "startDate": "start"}
    (hire,) = parse({"id": 1, "email": "me@example.com", "work": "me@work.example.com", "start": "2026-09-14"},
                    mapping).hires
    assert (hire.personal_email, hire.work_email) == ("me@example.com", "me@work.example.com")


def test_epoch_milliseconds_are_a_date() -> None:
    mapping = {"id": "id", "startDate": "start"}
    (hire,) = parse({"id": 1, "start": 1789344000000}, mapping).hires  # 2026-09-14T00:00:00Z
    assert hire.start_date == dt.date(2026, 9, 14)


def test_a_root_array_can_be_mapped() -> None:
    (hire,) = parse([{"id": "a", "start": "2026-09-14"}], {"id": "[0].id", "startDate": "[0].start"}).hires
    assert hire.person_id == "a"


# -- hireEvents ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["employee.hired", "employee.rehired"])
def test_listed_events_are_hires(event: str) -> None:
    result = parse({**PAYLOAD, "type": event})
    assert (result.kind, result.action) == (EventKind.HIRE, event)


@pytest.mark.parametrize(("event", "action"), [
    ("employee.updated", "employee.updated"),
    ("Employee Hired", "unknown"),  # not a metric-safe name
    (None, "unknown"),
    ({"name": "employee.hired"}, "unknown"),
])
def test_other_events_are_ignored(event: Any, action: str) -> None:
    data = {**PAYLOAD, "type": event, "employee": {}}  # not even read: no problems for missing fields
    result = parse(data)
    assert (result.kind, result.action, result.hires) == (EventKind.IGNORED, action, ())


def test_without_hire_events_every_delivery_is_a_hire() -> None:
    mapping = MAPPING.model_copy(update={"hire_events": []})
    result = parse({**PAYLOAD, "type": "employee.updated"}, mapping)
    assert (result.kind, result.action) == (EventKind.HIRE, "employee.updated")
    unnamed = MAPPING.model_copy(update={"hire_events": [], "event": None})
    assert parse(PAYLOAD, unnamed).action == "generic"


def test_hire_events_need_an_event_expression() -> None:
    with pytest.raises(ValueError, match=r"mapping\.hireEvents: needs mapping\.event"):
        adapter({"id": "id", "startDate": "start", "hireEvents": ["hired"]})


# -- bad payloads and bad expressions --------------------------------------------------------------------


def test_a_missing_start_date_names_the_mapping_field_and_expression() -> None:
    data = json.loads(BODY)
    del data["employee"]["startsOn"]
    with pytest.raises(InvalidPayload) as exc:
        parse(data)
    assert problems(exc) == [("mapping.startDate", "no value at `employee.startsOn`")]


def test_a_missing_id_and_a_bad_date_are_both_named_without_values() -> None:
    data = json.loads(BODY)
    data["employee"]["id"] = None
    data["employee"]["startsOn"] = "14. September 2026"
    data["employee"]["manager"]["name"] = {"given": "Mara"}
    with pytest.raises(InvalidPayload) as exc:
        parse(data)
    assert problems(exc) == [
        ("mapping.id", "no value at `employee.id`"),
        ("mapping.startDate", "not a valid date at `employee.startsOn`: expected YYYY-MM-DD or MM/DD/YYYY"),
        ("mapping.manager", "expected a string at `employee.manager.name`, found an object"),
    ]
    assert "September" not in str(exc.value.problems) and "Mara" not in str(exc.value.problems)


def test_an_expression_that_fails_on_the_payload_is_named_without_the_value() -> None:
    mapping = {"id": "id", "startDate": "start", "role": "to_string(length(title))"}
    with pytest.raises(InvalidPayload) as exc:
        parse({"id": 1, "start": "2026-09-14", "title": 12345}, mapping)
    ((field, message),) = problems(exc)
    assert field == "mapping.role"
    assert "cannot be evaluated" in message and "12345" not in message


def test_a_body_that_is_not_json_is_invalid() -> None:
    with pytest.raises(InvalidPayload) as exc:
        adapter().parse(bearer(b"{not json"))
    assert [p.field for p in exc.value.problems] == ["body"]


@pytest.mark.parametrize(("field", "expression"), [
    ("role", "employee.job."),
    ("startDate", "employee[?start"),
    ("id", "`unclosed"),
    ("event", "length("),
])
def test_a_bad_expression_is_a_configuration_error(field: str, expression: str) -> None:
    mapping = {"id": "employee.id", "startDate": "employee.startsOn", field: expression}
    with pytest.raises(ValueError, match=rf"^mapping\.{field}: not a valid JMESPath expression") as exc:
        adapter(mapping)
    assert "\n" not in str(exc.value)
