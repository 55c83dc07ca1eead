"""Ashby web hooks: ``Ashby-Signature: sha256=<hex>`` over the raw body; ``candidateHire``; RPC API lookups.

Sources (notes in docs/hr-vendors-research.md, section "Ashby"): https://developers.ashbyhq.com/docs/authenticating-webhooks,
/docs/common-payload-data, /docs/retries, /docs/responses, /reference/candidatehirewebhook, /reference/authentication,
and Ashby's OpenAPI as mirrored in api-evangelist/ashby ``openapi/ashby-webhook-payloads-api-openapi.yml``,
``ashby-department-api-openapi.yml``, ``ashby-location-api-openapi.yml``, ``ashby-candidate-api-openapi.yml``.

A ``candidateHire`` payload is usable as it is (name, primary email, job title, start date, hiring manager);
department and location arrive only as ids. With an API token configured, ``complete`` turns those into names
and adds the candidate's other email address; without one the hire goes ahead without them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from preboarding.api.sources import Vendor
from preboarding.bridge.vendor_api import (
    VendorApiBadAnswer,
    VendorApiNotFound,
    VendorApiUnauthorized,
    VendorApiUnavailable,
)
from preboarding.bridge.vendors.base import (
    EventKind,
    FieldProblem,
    InvalidPayload,
    NewHire,
    SignatureError,
    SignedRequest,
    VendorApi,
    VendorEvent,
)
from preboarding.bridge.vendors.payload import DELIVERY_ID, PayloadReader, body_digest, load_object, text

__all__ = ["ADAPTER", "ASHBY_API_URL", "AshbyAdapter", "rpc_results"]

# https://developers.ashbyhq.com/reference/introduction: RPC endpoints POST https://api.ashbyhq.com/CATEGORY.method.
ASHBY_API_URL = "https://api.ashbyhq.com"

# https://developers.ashbyhq.com/docs/authenticating-webhooks: "Ashby-Signature: sha256=f3124911..."; "The part
# before the = indicates the algorithm"; the digest is hex HMAC-SHA256 of "the raw payload (i.e. whole request
# body, json string) before it has been parsed". No timestamp is signed.
SIGNATURE_HEADER = "ashby-signature"

HIRE = "candidateHire"  # /reference/candidatehirewebhook: "Triggered when a candidate is hired"
PING = "ping"  # OpenAPI ``ping``: {"action": "ping", "data": {"webhookActionType": "ping"}}
# candidateDelete: "Includes the deleted candidate id" (data.candidate.id): the person is gone.
# Not removals here, although the issue lists offerDelete and the research lists candidateMerge:
# - offerDelete ("Triggered when an offer process is deleted") carries only data.offer.{id, applicationId},
#   not the candidate, and a deleted offer process does not un-hire: the application stays Hired unless it is
#   moved, which shows up as applicationUpdate (inferred from the status enum Hired|Archived|Active|Lead).
# - candidateMerge (data.deletedCandidate.id, data.mergedCandidate.id) moves the applications to the merged
#   candidate; the hire still stands, so removing the deleted id's video would lose a real welcome video.
REMOVALS: Mapping[str, tuple[str, ...]] = {
    "candidateDelete": ("data", "candidate", "id"),
}

# Hiring-team member objects are {email, firstName, lastName, role, userId}; "Hiring Manager" is the OpenAPI's
# example role (hiringTeam.addMember). Roles are configurable per organisation, so this match is inferred.
HIRING_MANAGER_ROLE = "hiring manager"

DATE_MESSAGE = "not a valid date: expected YYYY-MM-DD or an ISO date-time"

_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_ACTION = re.compile(r"^[A-Za-z]{1,64}$")
_ERROR_CODE = re.compile(r"^[a-z0-9_]{1,64}$")


class AshbyAdapter:
    """Ashby's web hooks: a hire is usable as sent; an API token adds department, location and emails."""

    vendor: Vendor = Vendor.ASHBY
    default_api_url: str | None = ASHBY_API_URL

    def unsigned_ping(self, request: SignedRequest) -> bool:
        """Never. Ashby signs only when the web hook has a secret token; an unsigned ping means it has none.

        Failing that ping is the useful answer: Ashby then creates the web hook disabled ("responds with an
        error code (any code >400)", /docs/setting-up-webhooks), so the admin adds the secret now. Answering 200
        would enable a web hook whose every hire is refused with 401, which Ashby does not retry (/docs/retries).
        """
        return False

    def verify(self, request: SignedRequest, secret: str, now: float) -> None:
        """Check ``Ashby-Signature: sha256=<hex>`` against the raw body; ``now`` is unused (nothing is timed)."""
        if not secret:
            raise SignatureError("the source has no webhook secret")
        value = request.headers.get(SIGNATURE_HEADER)
        if not value:
            raise SignatureError("missing Ashby-Signature header: set a secret token on the Ashby web hook")
        algorithm, _, digest = value.strip().partition("=")
        if algorithm.lower() != "sha256" or not _HEX_SHA256.match(digest.strip()):
            raise SignatureError("Ashby-Signature must be 'sha256=<64 hex digits>'")
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, digest.strip().lower()):
            raise SignatureError("Ashby-Signature does not match")

    def parse(self, request: SignedRequest) -> tuple[VendorEvent]:
        """``candidateHire`` -> HIRE, ``ping`` -> PING, ``candidateDelete`` -> REMOVE, anything else IGNORED."""
        root = load_object(request.body)
        action = root.get("action")
        if not isinstance(action, str) or not action:
            raise InvalidPayload([FieldProblem("action", "required: the name of Ashby's event", "missing")])
        delivery_id = _delivery_id(root, action, request.body)
        name = action if _ACTION.match(action) else "unknown"  # an unknown name must not flood metrics
        if action == PING:
            return (VendorEvent(EventKind.PING, name, delivery_id),)
        if action == HIRE:
            return (VendorEvent(EventKind.HIRE, name, delivery_id, hires=(_hire(root),)),)
        if action in REMOVALS:
            person_id = PayloadReader().required_ident_at(root, REMOVALS[action])
            return (VendorEvent(EventKind.REMOVE, name, delivery_id, person_ids=(person_id,)),)
        return (VendorEvent(EventKind.IGNORED, name, delivery_id),)

    def needs_lookup(self, hire: NewHire) -> bool:
        """Whether ``complete`` has something to look up: a department or location known only by id, or a
        missing personal or work address (the web hook carries only the primary one)."""
        ids = hire.external_ids
        return bool(
            (hire.department is None and ids.get("departmentId"))
            or (hire.location is None and ids.get("locationId"))
            or ((hire.personal_email is None or hire.work_email is None) and ids.get("candidateId"))
        )

    async def complete(self, hire: NewHire, api: VendorApi) -> NewHire:
        """``hire`` with department and location names and the candidate's other address, from Ashby's API.

        The calls are ``department.info {departmentId}``, ``location.info {locationId}`` and ``candidate.info {id}``
        (OpenAPI request bodies). A record Ashby does not know (deleted, or a confidential job the key may not
        read) leaves its field empty rather than failing: retrying would not bring it back, and the hire is
        usable without it. An unavailable API or a refused key propagates, so the delivery is retried.
        """
        ids = hire.external_ids
        department, location = hire.department, hire.location
        personal_email, work_email = hire.personal_email, hire.work_email
        if department is None and (department_id := ids.get("departmentId")):
            found = await _optional(api, "department.info", {"departmentId": department_id})
            department = text(found.get("name"))
        if location is None and (location_id := ids.get("locationId")):
            found = await _optional(api, "location.info", {"locationId": location_id})
            location = text(found.get("name"))
        if (personal_email is None or work_email is None) and (candidate_id := ids.get("candidateId")):
            found = await _optional(api, "candidate.info", {"id": candidate_id})
            emails = _emails_by_type(found.get("emailAddresses"))
            personal_email = personal_email or emails.get("personal") or emails.get("other")
            work_email = work_email or emails.get("work")
        return replace(hire, department=department, location=location, personal_email=personal_email,
                       work_email=work_email)

    def api_credentials(self, token: str) -> tuple[str, str]:
        """HTTP Basic with the API key as username and a blank password (/reference/authentication)."""
        return (token, "")


ADAPTER = AshbyAdapter()


async def rpc_results(api: VendorApi, method: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
    """``POST /<method>`` and the ``results`` object of Ashby's ``{"success": true, "results": ...}`` answer.

    "What would be 4XX errors will return 200 with success being false", with ``errorInfo.code`` such as
    ``application_not_found`` (https://developers.ashbyhq.com/docs/responses). Codes ending in ``_not_found``
    raise ``VendorApiNotFound`` (the suffix is inferred from that example), ``missing_endpoint_permission``
    ``VendorApiUnauthorized`` (/reference/authentication), rate limits ``VendorApiUnavailable``, anything else
    ``VendorApiBadAnswer``. Messages name the method and Ashby's code, never Ashby's message (it may quote data).
    """
    answer = await api.post(method, dict(body))
    if not isinstance(answer, dict):
        raise VendorApiBadAnswer(f"Ashby's {method} answered with something that is not a JSON object")
    if answer.get("success") is True:
        results = answer.get("results")
        if not isinstance(results, dict):
            raise VendorApiBadAnswer(f"Ashby's {method} answered success without a results object")
        return results
    code = _error_code(answer)
    if code.endswith("_not_found"):
        raise VendorApiNotFound(f"Ashby's {method} does not know this record ({code})")
    if code == "missing_endpoint_permission":
        raise VendorApiUnauthorized(f"the Ashby API key lacks the permission for {method} ({code})")
    if code.startswith("rate_limit") or code.startswith("concurrent_limit"):
        raise VendorApiUnavailable(f"Ashby's {method} is rate limited ({code})")
    raise VendorApiBadAnswer(f"Ashby's {method} refused the request ({code})")


async def _optional(api: VendorApi, method: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
    """``rpc_results``, or ``{}`` when Ashby does not know the record."""
    try:
        return await rpc_results(api, method, body)
    except VendorApiNotFound:
        return {}


def _error_code(answer: Mapping[str, Any]) -> str:
    """``errorInfo.code``, else the first of the deprecated ``errors[]`` (both in /docs/responses)."""
    info = answer.get("errorInfo")
    code = info.get("code") if isinstance(info, dict) else None
    if code is None and isinstance(errors := answer.get("errors"), list) and errors:
        code = errors[0]
    return code if isinstance(code, str) and _ERROR_CODE.match(code) else "unknown_error"


def _hire(root: Mapping[str, Any]) -> NewHire:
    """The ``candidateHire`` payload (``data.application`` as in pushToHRIS, ``data.offer`` as in offerCreate)."""
    reader = PayloadReader()
    data = reader.object(root, "data", "data", required=True)
    application = reader.object(data, "application", "data.application", required=True)
    at = "data.application"
    candidate = reader.object(application, "candidate", f"{at}.candidate", required=True)
    person_id = reader.required_ident(candidate, "id", f"{at}.candidate.id")
    # Only the primary address comes with the hook ({value, type: Personal|Work|Other, isPrimary}).
    email = reader.object(candidate, "primaryEmailAddress", f"{at}.candidate.primaryEmailAddress")
    email_value = reader.text(email, "value", f"{at}.candidate.primaryEmailAddress.value")
    email_type = (reader.text(email, "type", f"{at}.candidate.primaryEmailAddress.type") or "Other").lower()
    job = reader.object(application, "job", f"{at}.job")
    manager, manager_id = _hiring_manager(reader, application, f"{at}.hiringTeam")
    # "Includes the application and most recent accepted offer (if one exists)": the offer may be absent.
    offer = reader.object(data, "offer", "data.offer")
    version = reader.object(offer, "latestVersion", "data.offer.latestVersion")
    # startDate is typed like createdAt (date-time) in the OpenAPI, e.g. "2026-09-14T00:00:00.000Z"; some
    # integrators see YYYY-MM-DD. The date part is taken as the first day (inferred: Ashby stores a day, sent as
    # midnight UTC; a timezone-shifted value would be a day off).
    start_date = reader.date(version, "startDate", "data.offer.latestVersion.startDate", DATE_MESSAGE)
    external_ids = {
        "candidateId": person_id,
        "applicationId": reader.ident(application, "id", f"{at}.id"),
        "offerId": reader.ident(offer, "id", "data.offer.id"),
        "jobId": reader.ident(job, "id", f"{at}.job.id"),
        # Ids only (pushToHRIS schema): complete() turns them into names when an API token is configured.
        "departmentId": reader.ident(job, "departmentId", f"{at}.job.departmentId"),
        "locationId": reader.ident(job, "locationId", f"{at}.job.locationId"),
        "managerUserId": manager_id,
    }
    hire = NewHire(
        person_id=person_id,
        name=reader.text(candidate, "name", f"{at}.candidate.name"),  # one string: Ashby has no first/last
        personal_email=email_value if email_type in ("personal", "other") else None,
        work_email=email_value if email_type == "work" else None,
        role=reader.text(job, "title", f"{at}.job.title"),
        start_date=start_date,
        manager=manager,
        external_ids={key: value for key, value in external_ids.items() if value},
    )
    reader.raise_problems()  # after every read, so one 422 names every bad field
    return hire


def _hiring_manager(reader: PayloadReader, application: Mapping[str, Any], at: str) -> tuple[str | None, str | None]:
    """The first hiring-team member whose role is the hiring manager: their name and user id."""
    for index, member in enumerate(reader.array(application, "hiringTeam", at)):
        if not isinstance(member, dict):
            reader.problem(f"{at}[{index}]", "expected an object", "dict_type")
            continue
        role = reader.text(member, "role", f"{at}[{index}].role")
        if role is None or role.lower() != HIRING_MANAGER_ROLE:
            continue
        parts = (reader.text(member, key, f"{at}[{index}].{key}") for key in ("firstName", "lastName"))
        return " ".join(p for p in parts if p) or None, reader.ident(member, "userId", f"{at}[{index}].userId")
    return None, None


def _emails_by_type(addresses: Any) -> dict[str, str]:
    """candidate.info's ``emailAddresses[] {value, type, isPrimary}``: the first of each type, lower-cased."""
    found: dict[str, str] = {}
    for item in addresses if isinstance(addresses, list) else ():
        if isinstance(item, dict) and (value := text(item.get("value"))):
            found.setdefault((text(item.get("type")) or "other").lower(), value)
    return found


def _delivery_id(root: Mapping[str, Any], action: str, body: bytes) -> str:
    """``<action>:<webhookActionId>``, else a digest of the body.

    webhookActionId "will be the same across retries for a single event and across webhook payloads if you have
    more than one webhook configured for the same event" (/docs/common-payload-data). The action is prefixed
    because the sibling candidateStageChange/applicationUpdate of one hire may carry the same id, and must not
    make the hire look like a redelivery. The ping schema has no webhookActionId, hence the digest.
    """
    action_id = root.get("webhookActionId")
    if isinstance(action_id, str) and DELIVERY_ID.match(key := f"{action}:{action_id}"):
        return key
    return body_digest(body)
