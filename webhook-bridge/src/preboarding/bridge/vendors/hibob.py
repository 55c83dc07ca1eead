"""HiBob (Bob) webhooks v2: ``Bob-Signature`` over the raw body, ids only, completed through Bob's API.

Sources (read in ``docs/hr-vendors-research.md``, section "HiBob"): https://apidocs.hibob.com/docs/working-with-webhooks,
/reference/getting-started-webhooks, /reference/webhook-events-v2, /reference/employee-events-v2,
/reference/api-calls-for-webhook-events, /reference/authorization, /reference/post_people-identifier,
/docs/create-employee; plus /docs/employee-data-webhooks and /reference/post_webhook_employee-updated
(read for this module: they document ``employee.updated`` in v2).

v2 payloads are ``{"companyId", "type", "triggeredBy", "triggeredAt", "version", "data":
{"employeeId"}}``: "Event payload contains only identifiers and metadata. You should make API calls to
retrieve the necessary data." (api-calls-for-webhook-events). v1 webhooks can no longer be created, so
only v2 is read.

The mapping from the API answer to a ``NewHire`` is pure (``hire_from_people``); ``HiBobAdapter.complete``
only fetches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pydantic_core

from preboarding.api.sources import Vendor
from preboarding.bridge.vendor_api import VendorApiBadAnswer
from preboarding.bridge.vendors.base import (
    EventKind,
    FieldProblem,
    InvalidPayload,
    NewHire,
    SignatureError,
    SignedRequest,
    VendorApi,
    VendorEvent,
    parse_vendor_date,
)
from preboarding.bridge.vendors.payload import (
    SAFE_ID,
    employee_event,
    id_text,
    load_object,
    merge_hire,
    parts_digest,
    required_employee_id,
    text,
)

__all__ = ["ADAPTER", "HIBOB_API_URL", "PEOPLE_FIELDS", "HiBobAdapter", "hire_from_people", "is_ping", "sign"]

# "POST https://api.hibob.com/v1/people/{id}" (api-calls-for-webhook-events); the sandbox is
# https://api.sandbox.hibob.com/v1 (set spec.api.url for it).
HIBOB_API_URL = "https://api.hibob.com/v1"
SIGNATURE_HEADER = "bob-signature"  # "The signature itself is sent as the header attribute - Bob-Signature"

PING_TEXT = "Ping test"
# The ping is tiny; anything longer is not one and is not parsed twice.
_PING_MAX_BYTES = 64

# Field ids to read, in dot notation (post_people-identifier: "use dot notation from Fields metadata, e.g.
# root.id"). firstName, surname, email, work.title/department/site/startDate are documented
# (create-employee); root.displayName, home.privateEmail and work.reportsTo are inferred. Fields the service
# user may not read are left out of the answer silently (people-read-api-contract), not refused.
PEOPLE_FIELDS = (
    "root.id", "root.firstName", "root.surname", "root.displayName", "root.email", "home.privateEmail",
    "work.title", "work.department", "work.site", "work.startDate", "work.reportsTo",
)

_EVENT_KINDS: Mapping[str, EventKind] = {
    # employee.created, not employee.joined: joined fires "at midnight on the effective date", i.e. on the
    # start date itself, too late for pre-boarding (employee-events-v2).
    "employee.created": EventKind.HIRE,
    # "Triggered when an employee's field is updated"; data lists the changed field ids in fieldUpdates
    # (docs/employee-data-webhooks, reference/post_webhook_employee-updated). The whole record is re-read.
    "employee.updated": EventKind.UPDATE,
    # The employee.deleted and employee.left payloads are assumed to carry data.employeeId like
    # employee.created (only the event names were read; post_webhook_employee-deleted adds an email).
    "employee.deleted": EventKind.REMOVE,
    # Lifecycle: terminated (or garden leave) (employee-events-v2). employee.inactivated is ignored: a new
    # hire may be inactive until the start date (inferred), so it must not remove the video.
    "employee.left": EventKind.REMOVE,
}

# Bob's backend ids are long digit strings ("3332883894235038486"); only a SAFE_ID may reach a URL path.
_ID_MESSAGE = "must be Bob's employee id (digits)"


def sign(secret: str, body: bytes) -> str:
    """``Bob-Signature``: base64 of HMAC-SHA512(webhook secret, raw body).

    HMAC-SHA512 over "the request payload" is documented (working-with-webhooks); standard Base64 without
    a prefix is inferred from the docs' Scala example (imports commons-codec Base64) and the ``bobhr`` gem
    (``Base64.strict_encode64(OpenSSL::HMAC.digest('sha512', key, body))``); the v2 reference pages call
    the header "Base64-encoded signature" (reference/post_webhook_employee-updated).
    """
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha512).digest()).decode()


def is_ping(body: bytes) -> bool:
    """Bob's connection test: "Ping test" as a string, or ``{"text":"Ping test"}`` "If previous failed"
    (working-with-webhooks, "Step 2"). Content-Type is not documented, so only the bytes are read."""
    if len(body) > _PING_MAX_BYTES:
        return False
    stripped = body.strip()
    if stripped == PING_TEXT.encode():
        return True
    try:
        data = pydantic_core.from_json(stripped)
    except ValueError:
        return False
    # A JSON string "Ping test" is read as the plain one: "'Ping test' as a String" could be either.
    return data == PING_TEXT or data == {"text": PING_TEXT}


class HiBobAdapter:
    """HiBob's webhooks v2: ids only, so every hire is looked up."""

    vendor: Vendor = Vendor.HIBOB
    default_api_url: str | None = HIBOB_API_URL

    def unsigned_ping(self, request: SignedRequest) -> bool:
        """The ping, whatever its signature: whether it is signed is not documented, and Bob sends it when
        the webhook is saved, possibly before the bridge has the new secret. Bob expects "a successful status
        code (2xx)" or the connection is not established; answering it does nothing."""
        return is_ping(request.body)

    def verify(self, request: SignedRequest, secret: str, now: float) -> None:
        """Check ``Bob-Signature``. Bob sends no timestamp, so there is no freshness check to make."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise SignatureError("missing Bob-Signature header")
        try:
            presented = base64.b64decode(signature.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("Bob-Signature is not base64") from None
        expected = hmac.new(secret.encode(), request.body, hashlib.sha512).digest()
        if not hmac.compare_digest(expected, presented):
            raise SignatureError("Bob-Signature does not match")

    def parse(self, request: SignedRequest) -> tuple[VendorEvent]:
        """The delivery's meaning: a hire, an update, a removal, the ping, or ignored."""
        if is_ping(request.body):
            return (VendorEvent(EventKind.PING, "ping"),)
        body = load_object(request.body)
        event = body.get("type")
        if not isinstance(event, str) or not event:
            raise InvalidPayload([FieldProblem("type", "required: the name of Bob's event", "missing")])
        data = body.get("data")
        kind = _EVENT_KINDS.get(event, EventKind.IGNORED)
        company_id, triggered_at = id_text(body.get("companyId")), id_text(body.get("triggeredAt"))
        if kind is EventKind.IGNORED:
            return (VendorEvent(kind, event, parts_digest("hibob", [event, company_id, triggered_at])),)
        if not isinstance(data, dict):
            raise InvalidPayload([FieldProblem("data", "required: an object with employeeId", "missing")])
        employee_id = required_employee_id(data.get("employeeId"), "data.employeeId", _ID_MESSAGE)
        # No delivery or event id is documented in the v2 envelope (webhook-events-v2). What identifies a
        # delivery: event type, company, employee and triggeredAt (the event's time, no time zone).
        delivery = parts_digest("hibob", [event, company_id, employee_id, triggered_at])
        return (employee_event(kind, event, delivery, employee_id, company_id),)

    def needs_lookup(self, hire: NewHire) -> bool:
        """Always: v2 payloads carry only identifiers."""
        return True

    async def complete(self, hire: NewHire, api: VendorApi) -> NewHire:
        """``POST {api}/people/{id}`` with the fields above and ``humanReadable: REPLACE``.

        ``REPLACE`` returns list fields (department, site, title) as their names instead of list-item ids
        (fields-metadata, how-to-read-employee-data). "Recently updated employee data may take a few seconds
        to become available ... Wait up to 20 seconds" (post_people-identifier): a 404 or an empty answer
        right after ``employee.created`` is answered so that Bob redelivers (it retries for up to 3 days);
        this adapter does not sleep.
        """
        if not SAFE_ID.match(hire.person_id):
            raise ValueError("a HiBob hire's person_id must be the employee id from parse()")
        answer = await api.post(f"people/{hire.person_id}",
                                json={"fields": list(PEOPLE_FIELDS), "humanReadable": "REPLACE"})
        return hire_from_people(answer, hire)

    def api_credentials(self, token: str) -> tuple[str, str]:
        """The Secret holds ``<service user id>:<token>``: HTTP Basic ``SERVICE-USER-ID:TOKEN`` (authorization).

        Raises ``ValueError`` (without echoing the token) when it is not in that form.
        """
        user, sep, secret = token.strip().partition(":")
        if not sep or not user or not secret:
            raise ValueError("the HiBob API token must be '<service user id>:<token>'")
        return (user, secret)


ADAPTER = HiBobAdapter()


# --- pure mapping --------------------------------------------------------------------------------------------


def hire_from_people(answer: Any, hire: NewHire) -> NewHire:
    """``hire`` with what ``POST /v1/people/{id}`` answers; the API wins where it has a value.

    The answer nests fields by category as in the create-employee example (``firstName``, ``surname``,
    ``email``, ``work.title``...). ``email`` is the work address Bob users sign in with; the personal one is
    ``home.privateEmail`` (inferred). ``work.reportsTo`` is an object with ``displayName`` (inferred), or
    a plain name when made human-readable. ``work.startDate`` is ``YYYY-MM-DD`` (create-employee).
    """
    if not isinstance(answer, dict) or str(answer.get("id")) != hire.person_id:
        raise VendorApiBadAnswer("HiBob answered with a different employee than the one asked for")
    work = _object(answer.get("work"))
    home = _object(answer.get("home"))
    try:
        start = parse_vendor_date(text(work.get("startDate")))
    except ValueError:
        raise VendorApiBadAnswer("HiBob's work.startDate is not a date") from None
    reports_to = work.get("reportsTo")
    manager = text(reports_to.get("displayName")) if isinstance(reports_to, dict) else text(reports_to)
    found = NewHire(
        person_id=hire.person_id,
        name=text(answer.get("displayName")),
        first_name=text(answer.get("firstName")),
        last_name=text(answer.get("surname")),
        work_email=text(answer.get("email")),
        personal_email=text(home.get("privateEmail")),
        role=text(work.get("title")),
        department=text(work.get("department")),
        location=text(work.get("site")),
        start_date=start,
        manager=manager,
    )
    return merge_hire(hire, found)


# --- helpers -------------------------------------------------------------------------------------------------


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


if TYPE_CHECKING:
    from preboarding.bridge.vendors.base import VendorAdapter

    _conforms: VendorAdapter = ADAPTER  # mypy checks the class against the protocol
