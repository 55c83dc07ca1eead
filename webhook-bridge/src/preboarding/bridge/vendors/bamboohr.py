"""BambooHR: event-based and field-based (legacy "Global") webhooks, completed through BambooHR's API.

Sources (read in ``docs/hr-vendors-research.md``, section "BambooHR"):
https://documentation.bamboohr.com/docs/webhooks ("Security"), /docs/event-based-webhooks,
/docs/field-based-webhooks, /docs/global-webhooks, /reference/employee-created-webhook,
/reference/get-employee, /docs/getting-started; open-source corroboration from botpress/botpress
``integrations/bamboohr`` and Nango's BambooHR webhook guide (third-party, labelled where used).

Two payload families, never mixed on one webhook (docs, event-based-webhooks):

* event-based ``{"type": "employee.created", "timestamp", "data": {"companyId", "employeeId"}}`` —
  ids only;
* field-based ``{"employees": [{"action": "Created|Updated|Deleted", "id", "timestamp", "fields",
  "changedFields"}]}`` — several people per POST; ``Created`` and ``Deleted`` have empty ``fields``.

The API's base URL names the company, so there is no default: a BambooHR source's ``spec.api.url``
must be ``https://api.bamboohr.com/api/gateway.php/<company>`` (or ``https://<company>.bamboohr.com/api``,
the form in documentation.bamboohr.com/docs/api-details). The payload carries a numeric ``companyId``,
not the company's subdomain, so the URL cannot be derived from a delivery.

The mapping from API answers and ``fields`` to a ``NewHire`` is pure (``hire_from_employee``,
``hire_from_fields``); ``BambooHRAdapter.complete`` only fetches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from preboarding.api.fields import field_path
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

__all__ = [
    "ADAPTER",
    "EMPLOYEE_FIELDS",
    "BambooHRAdapter",
    "hire_from_employee",
    "hire_from_fields",
    "parse_timestamp",
    "sign",
]

SIGNATURE_HEADER = "x-bamboohr-signature"
TIMESTAMP_HEADER = "x-bamboohr-timestamp"

# How old X-BambooHR-Timestamp may be. BambooHR retries a 5xx "up to 5 times using exponential backoff
# (5min, 10min, 20min, 40min, 80min intervals)" (reference/employee-created-webhook), so the last retry
# comes 155 minutes after the first attempt. The docs call the header "the timestamp when the request was
# sent", which suggests each retry is re-stamped and re-signed, but that is not stated: if retries keep
# the original timestamp, a 5-minute window (Nango's, third-party) would refuse every retry with a 4xx,
# and BambooHR "will not retry webhooks that return 4xx" — the hire would be lost. 3 hours covers the
# whole schedule with slack; a replay inside it is a duplicate of the same delivery id (see
# ``_event_based``), and a replayed ``employee.created`` of a deleted employee finds nothing in the API.
MAX_AGE_SECONDS = 3 * 3600
MAX_AHEAD_SECONDS = 300  # clock skew

# Fields read from GET /v1/employees/{id}/: "every other field is included only when explicitly named in
# the fields query parameter"; unreadable fields are "omitted ... with no marker" (reference/get-employee).
# supervisor, supervisorEId and supervisorEmail are not verified in the docs read (inferred).
EMPLOYEE_FIELDS = (
    "firstName", "lastName", "preferredName", "workEmail", "homeEmail", "jobTitle", "department",
    "location", "hireDate", "status", "supervisor", "supervisorEId", "supervisorEmail",
)

# Field-based webhooks name fields by BambooHR's English display names unless aliases are configured
# (docs, field-based-webhooks), so both are read. The supervisor's display name is not documented: the
# manager comes only from the API.
_FIELD_NAMES: Mapping[str, tuple[str, ...]] = {
    "first_name": ("First Name", "firstName"),
    "preferred_name": ("Preferred Name", "preferredName"),
    "last_name": ("Last Name", "lastName"),
    "work_email": ("Work Email", "workEmail"),
    "personal_email": ("Home Email", "homeEmail"),
    "role": ("Job Title", "jobTitle"),
    "department": ("Department", "department"),
    "location": ("Location", "location"),
    "start_date": ("Hire Date", "hireDate"),
}

_UNIX_SECONDS = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,9})?$")
# BambooHR employee ids are numeric strings ("67890" in the docs); only a SAFE_ID may reach a URL path.
_ID_MESSAGE = "must be BambooHR's employee id (digits)"

_EVENT_KINDS: Mapping[str, EventKind] = {
    # "Hired" is a new employee record; BambooHR has no separate hire event (docs, event-based-webhooks).
    "employee.created": EventKind.HIRE,
    # Fires right after employee.created too ("both ... fire sequentially"): an UPDATE creates nothing.
    "employee.updated": EventKind.UPDATE,
    "employee.deleted": EventKind.REMOVE,
}
_FIELD_ACTIONS: Mapping[str, tuple[EventKind, str]] = {
    # The field-based family's event names (docs, global-webhooks) for the payload's "action".
    "created": (EventKind.HIRE, "employee_with_fields.created"),
    "updated": (EventKind.UPDATE, "employee_with_fields.updated"),
    "deleted": (EventKind.REMOVE, "employee_with_fields.deleted"),
}


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """``X-BambooHR-Signature``: hex HMAC-SHA256(private key, raw body + ``X-BambooHR-Timestamp``).

    The docs say the signature is "calculated using the payload, the timestamp, and your private key"
    (docs/webhooks, "Security"); the order (body, then timestamp) and hex encoding are from open-source
    receivers (botpress ``src/api/signing.ts``: ``Buffer.concat([body, timestamp])``; Nango): inferred.
    """
    return hmac.new(secret.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def parse_timestamp(value: str) -> float | None:
    """``X-BambooHR-Timestamp`` as Unix seconds, or None if unreadable.

    The format is undocumented; third-party code shows both Unix seconds and ISO 8601, so both are read.
    An ISO time without an offset is taken as UTC.
    """
    text = value.strip()
    if _UNIX_SECONDS.match(text):
        return float(text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()

_FORMAT_HINT = " (set the BambooHR webhook's format to JSON, not form post)"


class BambooHRAdapter:
    """BambooHR's webhooks. ``default_api_url`` is None although hires need the API: see the module doc.

    The source's ``spec.api.url`` must name the company; ``needs_lookup`` is true for every hire that
    carries only ids (event-based ``employee.*``, field-based ``Created``).
    """

    vendor: Vendor = Vendor.BAMBOOHR
    # None here does not mean "no API needed": the base URL names the company, so it cannot be defaulted.
    default_api_url: str | None = None

    def unsigned_ping(self, request: SignedRequest) -> bool:
        """Never: BambooHR documents no ping or test delivery."""
        return False

    def verify(self, request: SignedRequest, secret: str, now: float) -> None:
        """Check ``X-BambooHR-Signature`` over body + timestamp, then that the timestamp is recent."""
        signature = request.headers.get(SIGNATURE_HEADER)
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        if not signature or not timestamp:
            raise SignatureError("missing X-BambooHR-Signature or X-BambooHR-Timestamp header")
        sent = parse_timestamp(timestamp)
        if sent is None:
            raise SignatureError("X-BambooHR-Timestamp must be Unix seconds or an ISO 8601 time")
        expected = sign(secret, request.body, timestamp)
        if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
            raise SignatureError("X-BambooHR-Signature does not match")
        if sent < now - MAX_AGE_SECONDS:
            raise SignatureError("X-BambooHR-Timestamp is more than 3 hours old")
        if sent > now + MAX_AHEAD_SECONDS:
            raise SignatureError("X-BambooHR-Timestamp is more than 5 minutes in the future")

    def parse(self, request: SignedRequest) -> tuple[VendorEvent, ...]:
        """Every event in the delivery: one, or one per kind for a field-based POST (HIRE, UPDATE, REMOVE).

        JSON only: the form-post encoding BambooHR also offers must be switched to JSON on the webhook.
        """
        body = load_object(request.body, _FORMAT_HINT)
        if "employees" in body:
            return _field_based(body)
        if "type" in body:
            return (_event_based(body),)
        raise InvalidPayload([FieldProblem(
            "type", "required: an event-based webhook (type, data) or a field-based one (employees)", "missing")])

    def needs_lookup(self, hire: NewHire) -> bool:
        """True when the webhook gave only ids (no name): ``employee.*`` and field-based ``Created``.

        A field-based ``Updated`` carries the monitored fields' values, covered by the signature.
        """
        return hire.full_name() is None

    async def complete(self, hire: NewHire, api: VendorApi) -> NewHire:
        """``GET {api}/v1/employees/{id}/?fields=...&onlyCurrent=false`` mapped onto ``hire``.

        ``onlyCurrent=false`` "includes future-dated values" (reference/get-employee): a new hire's job
        title and department are typically entered effective from the hire date, still in the future.
        """
        if not SAFE_ID.match(hire.person_id):
            raise ValueError("a BambooHR hire's person_id must be the employee id from parse()")
        answer = await api.get(f"v1/employees/{hire.person_id}/",
                               params={"fields": ",".join(EMPLOYEE_FIELDS), "onlyCurrent": "false"})
        return hire_from_employee(answer, hire)

    def api_credentials(self, token: str) -> tuple[str, str]:
        """HTTP Basic with the API key as username and any password, conventionally ``x``.

        The username part is from the docs (getting-started); the ``x`` convention from third-party guides.
        """
        return (token, "x")


ADAPTER = BambooHRAdapter()


# --- pure mapping --------------------------------------------------------------------------------------------


def hire_from_employee(answer: Any, hire: NewHire) -> NewHire:
    """``hire`` with what ``GET /v1/employees/{id}/`` says; the API wins where it has a value.

    "The id field is always present and is returned as a string" (reference/get-employee). The greeting
    uses ``preferredName`` when set. ``supervisor`` is "Last, First" in the sample (inferred) and is
    turned around. BambooHR is known to send ``0000-00-00`` for an empty date (inferred, not in the docs
    read): it is no date.
    """
    if not isinstance(answer, dict) or str(answer.get("id")) != hire.person_id:
        raise VendorApiBadAnswer("BambooHR answered with a different employee than the one asked for")
    try:
        start = _date(answer.get("hireDate"))
    except ValueError:
        raise VendorApiBadAnswer("BambooHR's hireDate is not a date") from None
    found = NewHire(
        person_id=hire.person_id,
        first_name=text(answer.get("preferredName")) or text(answer.get("firstName")),
        last_name=text(answer.get("lastName")),
        work_email=text(answer.get("workEmail")),
        personal_email=text(answer.get("homeEmail")),
        role=text(answer.get("jobTitle")),
        department=text(answer.get("department")),
        location=text(answer.get("location")),
        start_date=start,
        manager=_first_last(text(answer.get("supervisor"))),
    )
    return merge_hire(hire, found)


def hire_from_fields(employee_id: str, fields: Mapping[str, Any], path: tuple[int | str, ...] = ()) -> NewHire:
    """A field-based employee's ``fields`` (display names or aliases) as a ``NewHire``.

    ``path`` is where ``fields`` sits in the payload, for naming a bad field (``employees[0].fields``).
    """
    values: dict[str, Any] = {}
    for attribute, names in _FIELD_NAMES.items():
        for name in names:
            if name in fields:
                values[attribute] = (name, fields[name])
                break
    start = None
    if "start_date" in values:
        name, raw = values["start_date"]
        try:
            start = _date(raw)
        except ValueError:
            raise InvalidPayload([FieldProblem(field_path((*path, name)), "expected YYYY-MM-DD", "date")]) from None
    texts = {k: text(v) for k, (_, v) in values.items() if k != "start_date"}
    return NewHire(
        person_id=employee_id,
        first_name=texts.get("preferred_name") or texts.get("first_name"),
        last_name=texts.get("last_name"),
        work_email=texts.get("work_email"),
        personal_email=texts.get("personal_email"),
        role=texts.get("role"),
        department=texts.get("department"),
        location=texts.get("location"),
        start_date=start,
        external_ids={"employeeId": employee_id},
    )


# --- parsing ---------------------------------------------------------------------------------------------------


def _event_based(body: Mapping[str, Any]) -> VendorEvent:
    kind_name = body.get("type")
    if not isinstance(kind_name, str) or not kind_name:
        raise InvalidPayload([FieldProblem("type", "must be the event's name", "string_type")])
    kind = _EVENT_KINDS.get(kind_name, EventKind.IGNORED)
    data = body.get("data")
    timestamp = id_text(body.get("timestamp"))
    if kind is EventKind.IGNORED:
        return VendorEvent(kind, kind_name, parts_digest("bamboohr", ["event", kind_name, timestamp]))
    if not isinstance(data, dict):
        raise InvalidPayload([FieldProblem("data", "required: an object with companyId and employeeId", "missing")])
    employee_id = required_employee_id(data.get("employeeId"), "data.employeeId", _ID_MESSAGE)
    company_id = id_text(data.get("companyId"))
    # No delivery id is documented. What identifies an event-based delivery: its type, company, employee and
    # the body's timestamp (the event's time). The header timestamp is left out: it may change per attempt.
    delivery = parts_digest("bamboohr", ["event", kind_name, company_id, employee_id, timestamp])
    return employee_event(kind, kind_name, delivery, employee_id, company_id)


def _field_based(body: Mapping[str, Any]) -> tuple[VendorEvent, ...]:
    employees = body.get("employees")
    if not isinstance(employees, list):
        raise InvalidPayload([FieldProblem("employees", "must be a list of employees", "list_type")])
    problems: list[FieldProblem] = []
    # What the POST means for each person, in list order (BambooHR batches by schedule, so one POST may
    # hold several changes of one person; the list order is taken as time order, inferred).
    outcome: dict[str, tuple[EventKind, NewHire | None]] = {}
    actions: dict[EventKind, str] = {}
    identity: list[str] = ["employees"]
    for index, item in enumerate(employees):
        where: tuple[int | str, ...] = ("employees", index)
        if not isinstance(item, dict):
            problems.append(FieldProblem(field_path(where), "must be an object", "dict_type"))
            continue
        try:
            employee_id = required_employee_id(item.get("id"), field_path((*where, "id")), _ID_MESSAGE)
        except InvalidPayload as exc:
            problems += exc.problems
            continue
        action = item.get("action")
        if not isinstance(action, str) or not action:
            problems.append(FieldProblem(field_path((*where, "action")), "required: Created, Updated or Deleted",
                                         "missing"))
            continue
        identity += [employee_id, action, id_text(item.get("timestamp"))]
        kind, event_name = _FIELD_ACTIONS.get(action.casefold(), (EventKind.IGNORED, "employee_with_fields"))
        actions.setdefault(kind, event_name)
        if kind is EventKind.IGNORED:
            continue
        if kind is EventKind.REMOVE:
            outcome[employee_id] = (kind, None)
            continue
        fields = item.get("fields") or {}
        if not isinstance(fields, dict):
            problems.append(FieldProblem(field_path((*where, "fields")), "must be an object", "dict_type"))
            continue
        try:
            # "For Created and Deleted actions the payload will always contain empty changedFields and fields
            # objects" (docs, global-webhooks): a Created person is ids only and is looked up.
            hire = hire_from_fields(employee_id, fields, (*where, "fields"))
        except InvalidPayload as exc:
            problems += exc.problems
            continue
        before_kind, before = outcome.get(employee_id, (None, None))
        if before is not None and before_kind in (EventKind.HIRE, EventKind.UPDATE):
            # Created then Updated in one POST is still a hire, with the later values on top.
            kind = EventKind.HIRE if EventKind.HIRE in (before_kind, kind) else kind
            hire = merge_hire(before, hire)
        outcome[employee_id] = (kind, hire)
    if problems:
        raise InvalidPayload(problems)
    # No delivery id is documented: the digest of every (id, action, timestamp) in the POST identifies it.
    delivery = parts_digest("bamboohr", identity)
    events: list[VendorEvent] = []
    for kind in (EventKind.HIRE, EventKind.UPDATE):
        group = tuple(h for k, h in outcome.values() if k is kind and h is not None)
        if group:
            events.append(VendorEvent(kind, actions[kind], delivery, hires=group))
    removed = tuple(i for i, (k, _) in outcome.items() if k is EventKind.REMOVE)
    if removed:
        events.append(VendorEvent(EventKind.REMOVE, actions[EventKind.REMOVE], delivery, person_ids=removed))
    if not events:
        events.append(VendorEvent(EventKind.IGNORED, actions.get(EventKind.IGNORED, "employee_with_fields"),
                                  delivery))
    return tuple(events)


# --- helpers -------------------------------------------------------------------------------------------------


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str) and value.strip() == "0000-00-00":
        return None
    return parse_vendor_date(value)


def _first_last(name: str | None) -> str | None:
    if name and name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        return f"{first} {last}".strip() or None
    return name


if TYPE_CHECKING:
    from preboarding.bridge.vendors.base import VendorAdapter

    _conforms: VendorAdapter = ADAPTER  # mypy checks the class against the protocol
