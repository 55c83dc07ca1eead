"""Greenhouse Recruiting web hooks (pure): ``Signature: sha256 <hex>`` over the raw body; ``hire_candidate``.

Facts come from Greenhouse's docs repository grnhse/greenhouse-api-docs, which builds
https://developers.greenhouse.io/webhooks.html (``source/includes/webhooks/_introduction.md``,
``_candidate_events.md``, ``_application_events.md``); notes with sources: docs/hr-vendors-research.md.
A ``hire_candidate`` payload carries the candidate, the job and the accepted offer, so no API is needed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from preboarding.api.sources import Vendor
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
from preboarding.bridge.vendors.payload import DELIVERY_ID, PayloadReader, body_digest, load_object

__all__ = ["ADAPTER", "GreenhouseAdapter"]

# https://developers.greenhouse.io/webhooks.html#authentication: "Signature: sha256 37d2725109df..." -- the
# algorithm, one space, then hex HMAC-SHA256(secret key, body) of "the entire content of the JSON response".
SIGNATURE_HEADER = "signature"
# Same page: "Each delivery will include a Greenhouse-Event-ID header" (the issue names it the same way).
# Whether a retry reuses it is not documented, so the bridge should also dedupe on the hire's data.
EVENT_ID_HEADER = "greenhouse-event-id"

HIRE = "hire_candidate"
PING = "ping"
# Where each removal event names the candidate (https://developers.greenhouse.io/webhooks.html):
# - unhire_candidate "only fires when the "Unhire" button is clicked ... only available ... after a candidate
#   has been hired": the hire is rescinded for sure.
# - delete_candidate: the person is gone (it also fires for a merge when merge_candidate is not subscribed).
# Not removals here, although the issue lists them: each would need to know *which* application was the hire,
# and a REMOVE names only people (VendorEvent.person_ids), so acting on them could delete a real hire's video.
# - offer_deleted names only offer.application_id, not the candidate, and an accepted offer is withdrawn
#   through "Unhire", which fires unhire_candidate.
# - reject_candidate and delete_application concern one application; a candidate's *other* applications are
#   routinely rejected or removed around a hire, and the payload cannot tell them from the hired one
#   (inferred: Greenhouse offers "Reject" on active applications, a hired one is unhired first).
# - merge_candidate moves the applications to new_candidate_id; the hire still stands.
REMOVALS: Mapping[str, tuple[str, ...]] = {
    "unhire_candidate": ("payload", "application", "candidate", "id"),
    "delete_candidate": ("payload", "person", "id"),
}


_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_ACTION = re.compile(r"^[a-z_]{1,64}$")


class GreenhouseAdapter:
    """Greenhouse Recruiting's web hooks: everything about a hire is in the payload; no API lookups."""

    vendor: Vendor = Vendor.GREENHOUSE
    default_api_url: str | None = None

    def unsigned_ping(self, request: SignedRequest) -> bool:
        """Never: Greenhouse signs deliveries with the web hook's secret key (webhooks.html#authentication).

        The docs show no ping, so that the ping is signed too is inferred; failing an unsigned one is safe anyway:
        Greenhouse then saves the web hook disabled, which shows the admin the secret is missing.
        """
        return False

    def verify(self, request: SignedRequest, secret: str, now: float) -> None:
        """Check ``Signature: sha256 <hex>`` against the raw body (never re-serialised JSON).

        Greenhouse escapes non-ASCII as ``\\uXXXX`` before signing and signs "the string exactly as it appears in
        the body, including the escaped unicode" (webhooks.html, "Important note on Unicode"). No timestamp is
        signed, so ``now`` is unused.
        """
        if not secret:
            raise SignatureError("the source has no webhook secret")
        value = request.headers.get(SIGNATURE_HEADER)
        if not value:
            raise SignatureError("missing Signature header")
        algorithm, _, digest = value.strip().partition(" ")
        if algorithm.lower() != "sha256" or not _HEX_SHA256.match(digest.strip()):
            raise SignatureError("Signature must be 'sha256 <64 hex digits>'")
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, digest.strip().lower()):
            raise SignatureError("Signature does not match")

    def parse(self, request: SignedRequest) -> tuple[VendorEvent]:
        """``hire_candidate`` -> HIRE, ``ping`` -> PING, ``unhire_candidate``/``delete_candidate`` -> REMOVE."""
        root = load_object(request.body)
        reader = PayloadReader()
        action = root.get("action")
        if not isinstance(action, str) or not action:
            raise InvalidPayload([FieldProblem("action", "required: the name of Greenhouse's event", "missing")])
        delivery_id = _delivery_id(request)
        name = action if _ACTION.match(action) else "unknown"  # an unknown name must not flood metrics
        if action == PING:
            return (VendorEvent(EventKind.PING, name, delivery_id),)
        if action == HIRE:
            return (VendorEvent(EventKind.HIRE, name, delivery_id, hires=(_hire(root, reader),)),)
        if action in REMOVALS:
            person_id = reader.required_ident_at(root, REMOVALS[action])
            return (VendorEvent(EventKind.REMOVE, name, delivery_id, person_ids=(person_id,)),)
        return (VendorEvent(EventKind.IGNORED, name, delivery_id),)

    def needs_lookup(self, hire: NewHire) -> bool:
        """Never: the hire payload is complete (Harvest could add the manager's name; not done yet)."""
        return False

    async def complete(self, hire: NewHire, api: VendorApi) -> NewHire:
        """``hire`` as is."""
        return hire

    def api_credentials(self, token: str) -> tuple[str, str]:
        """Harvest v1/v2: the API key as the Basic username, blank password (developers.greenhouse.io/harvest.html)."""
        return (token, "")


ADAPTER = GreenhouseAdapter()


def _hire(root: Mapping[str, Any], reader: PayloadReader) -> NewHire:
    """The ``hire_candidate`` payload (webhooks.html#candidate-hired) as a ``NewHire``."""
    payload = reader.object(root, "payload", "payload", required=True)
    application = reader.object(payload, "application", "payload.application", required=True)
    at = "payload.application"
    candidate = reader.object(application, "candidate", f"{at}.candidate", required=True)
    person_id = reader.required_ident(candidate, "id", f"{at}.candidate.id")
    emails = _emails(reader, candidate, f"{at}.candidate.email_addresses")

    # "application.job: Deprecated. Use application.jobs[] instead" -- the old field only as a fallback.
    job, job_at = reader.first_object(application, "jobs", f"{at}.jobs")
    if not job:
        job, job_at = reader.object(application, "job", f"{at}.job"), f"{at}.job"
    department, _ = reader.first_object(job, "departments", f"{job_at}.departments")
    # An office has a name ("New York City") and a free-text location ("New York, NY"); profiles match the
    # name, as the admin sees it in Greenhouse. Jobs may list several offices: the first is taken.
    office, office_at = reader.first_object(job, "offices", f"{job_at}.offices")
    location = reader.text(office, "name", f"{office_at}.name") or reader.text(office, "location",
                                                                                f"{office_at}.location")
    manager, manager_id = _hiring_manager(reader, job, f"{job_at}.hiring_team")

    offer = reader.object(application, "offer", f"{at}.offer")
    # "application.offer.starts_at: The candidate's start date. Expected format is YYYY-MM-DD". The issue also
    # asks for MM/DD/YYYY, which Greenhouse uses in offer_created/offer_updated's start_date ("04/15/2013",
    # webhooks.html#offer-created): parse_vendor_date reads both.
    start_date = reader.date(offer, "starts_at", f"{at}.offer.starts_at")
    external_ids = {
        "candidateId": person_id,
        "applicationId": reader.ident(application, "id", f"{at}.id"),
        "offerId": reader.ident(offer, "id", f"{at}.offer.id"),
        "offerVersion": reader.ident(offer, "version", f"{at}.offer.version"),
        "managerUserId": manager_id,
    }
    hire = NewHire(
        person_id=person_id,
        first_name=reader.text(candidate, "first_name", f"{at}.candidate.first_name"),
        last_name=reader.text(candidate, "last_name", f"{at}.candidate.last_name"),
        personal_email=emails.get("personal") or emails.get("other"),
        work_email=emails.get("work"),
        role=reader.text(job, "name", f"{job_at}.name"),
        department=reader.text(department, "name", f"{job_at}.departments[0].name"),
        location=location,
        start_date=start_date,
        manager=manager,
        external_ids={key: value for key, value in external_ids.items() if value},
    )
    reader.raise_problems()  # after every read, so one 422 names every bad field
    return hire


def _emails(reader: PayloadReader, candidate: Mapping[str, Any], at: str) -> dict[str, str]:
    """The first address of each type: ``email_addresses[] {value, type}``, type personal, work or other.

    An "other" address stands in for a personal one: before day one, any address the candidate gave the
    recruiter is theirs (a work address is usually not readable yet).
    """
    found: dict[str, str] = {}
    for index, item in enumerate(reader.array(candidate, "email_addresses", at)):
        if not isinstance(item, dict):
            reader.problem(f"{at}[{index}]", "expected an object", "dict_type")
            continue
        value = reader.text(item, "value", f"{at}[{index}].value")
        kind = (reader.text(item, "type", f"{at}[{index}].type") or "other").lower()
        if value:
            found.setdefault(kind, value)
    return found


def _hiring_manager(reader: PayloadReader, job: Mapping[str, Any], at: str) -> tuple[str | None, str | None]:
    """The first hiring manager's name and user id, if the job carries its hiring team.

    Not in the documented hire payload: application events show ``jobs[].hiring_team.hiring_managers[]`` with
    only ``user_id`` and ``employee_id`` (webhooks.html#application-created), so usually only the id is known.
    A ``name`` or ``first_name``/``last_name`` (Harvest's hiring-team shape) is used when present (inferred).
    """
    team = reader.object(job, "hiring_team", at)
    manager, manager_at = reader.first_object(team, "hiring_managers", f"{at}.hiring_managers")
    if not manager:
        return None, None
    name = reader.text(manager, "name", f"{manager_at}.name")
    if not name:
        parts = (reader.text(manager, key, f"{manager_at}.{key}") for key in ("first_name", "last_name"))
        name = " ".join(p for p in parts if p) or None
    return name, reader.ident(manager, "user_id", f"{manager_at}.user_id")


def _delivery_id(request: SignedRequest) -> str:
    """``Greenhouse-Event-ID``, else a digest of the body (what a retry of the same delivery repeats)."""
    event_id = request.headers.get(EVENT_ID_HEADER, "").strip()
    return event_id if DELIVERY_ID.match(event_id) else body_digest(request.body)
