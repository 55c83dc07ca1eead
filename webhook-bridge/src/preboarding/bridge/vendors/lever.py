"""Lever: ``candidateHired`` webhooks, signed inside the body, completed through Lever's API.

Sources (read in ``docs/hr-vendors-research.md``, section "Lever"): the Lever Data API documentation,
https://hire.lever.co/developer/documentation ("Webhooks", "Offers", "Opportunities", "Postings",
"Users"), and help.lever.co "Configuring webhooks".

Lever signs only ``token + triggeredAt``, not the body: a captured delivery could carry any ``data``.
So the body's ids are only hints. A hire is built from what Lever's API says about the opportunity
(its contact, name, emails, offer, posting, manager), never from the body.

Removals (``candidateDeleted``, leaving an archived state) are the exception: ``VendorAdapter`` has no
step that could confirm them through the API, so they act on the body's ``contactId``. The signature,
the freshness window and the token as delivery id are all that stands behind them.

The mapping from API answers to a ``NewHire`` is pure (``offer_terms``, ``manager_user_id``,
``lever_new_hire``); ``LeverAdapter.complete`` only fetches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pydantic_core

from preboarding.api.sources import Vendor
from preboarding.bridge.vendor_api import VendorApiBadAnswer, VendorApiNotFound
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
from preboarding.bridge.vendors.payload import DELIVERY_ID, load_object, text

__all__ = [
    "ADAPTER",
    "LEVER_API_URL",
    "LeverAdapter",
    "OfferTerms",
    "lever_new_hire",
    "manager_user_id",
    "offer_terms",
    "sign",
]

# Base of Lever's Data API (docs: "Base URL"); paths below are relative to it.
LEVER_API_URL = "https://api.lever.co/v1"

HIRED = "candidateHired"  # "Triggers when a candidate is marked as hired in Lever." (docs, Webhooks)
ARCHIVE_CHANGE = "candidateArchiveChange"
DELETED = "candidateDeleted"

# Lever gives no tolerance ("You can also check if the timestamp is not too far from the current time",
# docs, "Securing webhooks"), nor a retry schedule ("five times, waiting longer and longer") and does not
# say whether a retry keeps triggeredAt. Chosen: two weeks, the span of Lever's delivery history whose
# "Rerun" button resends old deliveries (delivery history: last 1,000 / two weeks, per the research notes
# on help.lever.co "Configuring webhooks"). Inside it, a replay to the same person is a duplicate of the
# token as delivery id. 5 minutes ahead allows for clock skew.
MAX_AGE_SECONDS = 14 * 24 * 3600
MAX_AHEAD_SECONDS = 300

# Lever ids are UUIDs; anything else must not reach a URL path (the body is not authenticated).
_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# Offer statuses, best first (docs, Offers: draft, approval-sent, approved, sent, sent-manually, opened,
# denied, signed). "signed" is the accepted offer; a denied one never describes the hire.
_OFFER_PREFERENCE = ("signed", "sent-manually", "opened", "sent", "approved", "approval-sent", "draft")


def sign(secret: str, token: str, triggered_at: str) -> str:
    """Lever's ``signature``: hex HMAC-SHA256(signature token, ``token + triggeredAt``) (docs, Webhooks)."""
    return hmac.new(secret.encode(), (token + triggered_at).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class OfferTerms:
    """What the chosen offer says: job title, start date, the manager's user id and the posting id."""

    role: str | None = None
    start_date: dt.date | None = None
    manager_user_id: str | None = None
    posting_id: str | None = None


class LeverAdapter:
    """Lever's webhooks: ids only, so every hire is looked up (``needs_lookup`` is always true)."""

    vendor: Vendor = Vendor.LEVER
    default_api_url: str | None = LEVER_API_URL

    def unsigned_ping(self, request: SignedRequest) -> bool:
        """Never: Lever's test POST carries ``signature`` and ``token`` like any delivery (docs, Webhooks)."""
        return False

    def verify(self, request: SignedRequest, secret: str, now: float) -> None:
        """Check ``signature`` (in the body) against ``token + triggeredAt``, then that triggeredAt is recent."""
        try:
            body = pydantic_core.from_json(request.body, allow_inf_nan=False)
        except ValueError:
            raise SignatureError("the body is not JSON, so Lever's signature cannot be read") from None
        if not isinstance(body, dict):
            raise SignatureError("the body is not a JSON object, so Lever's signature cannot be read")
        signature, token = body.get("signature"), body.get("token")
        triggered_at = _triggered_at_text(body.get("triggeredAt"))
        if not isinstance(signature, str) or not signature:
            # "A signature body parameter will be included ... if a signing token has been generated".
            raise SignatureError("the body has no signature: generate a webhook signature token in Lever")
        if not isinstance(token, str) or not token or triggered_at is None:
            raise SignatureError("the body needs token and triggeredAt (epoch milliseconds) to be verified")
        expected = sign(secret, token, triggered_at)
        if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
            raise SignatureError("signature does not match")
        sent = int(triggered_at) / 1000  # epoch milliseconds (docs' example: 1447183950089)
        if sent < now - MAX_AGE_SECONDS:
            raise SignatureError("triggeredAt is more than 14 days old")
        if sent > now + MAX_AHEAD_SECONDS:
            raise SignatureError("triggeredAt is more than 5 minutes in the future")

    def parse(self, request: SignedRequest) -> tuple[VendorEvent]:
        """The delivery's meaning: a hire, a ping (candidateHired with empty data), a removal, or ignored."""
        body = load_object(request.body)
        event = body.get("event")
        if not isinstance(event, str) or not event:
            raise InvalidPayload([FieldProblem("event", "required: the name of Lever's event", "missing")])
        delivery_id = _delivery_id(body)
        data = body.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InvalidPayload([FieldProblem("data", "must be an object", "dict_type")])

        if event == HIRED:
            if not data:
                # The test POST is candidateHired with "data": {} and no id (docs, "Our test POST request").
                return (VendorEvent(EventKind.PING, event, delivery_id),)
            # The child fields of candidateHired's data are hidden in the docs; opportunityId, candidateId
            # (deprecated, = opportunity id) and contactId are those of the documented candidateStageChange
            # example, and open-source receivers read data.opportunityId (inferred).
            opportunity_id, contact_id = _ids(data, "opportunityId", "contactId")
            hire = NewHire(person_id=contact_id,
                           external_ids={"opportunityId": opportunity_id, "contactId": contact_id})
            return (VendorEvent(EventKind.HIRE, event, delivery_id, hires=(hire,)),)

        # Lever has no unhire or offer-rescinded event; deletion and leaving a (hired) archive state are
        # the closest (docs, Webhooks: candidateDeleted, candidateArchiveChange). These act on the body's
        # ids, which the signature does not cover (module docstring: no step to confirm them via the API).
        if event == DELETED:
            (contact_id,) = _ids(data, "contactId")
            return (VendorEvent(EventKind.REMOVE, event, delivery_id, person_ids=(contact_id,)),)
        if event == ARCHIVE_CHANGE and _leaves_archive(data):
            (contact_id,) = _ids(data, "contactId")
            return (VendorEvent(EventKind.REMOVE, event, delivery_id, person_ids=(contact_id,)),)
        return (VendorEvent(EventKind.IGNORED, event, delivery_id),)

    def needs_lookup(self, hire: NewHire) -> bool:
        """Always: the webhook carries only ids, and those are not covered by Lever's signature."""
        return True

    async def complete(self, hire: NewHire, api: VendorApi) -> NewHire:
        """The opportunity, its offers, the offer's posting and manager, fetched and mapped.

        A 404 for the opportunity propagates (Lever does not know it); a missing posting or manager
        user only leaves those fields empty, since a deleted posting must not block the welcome video.
        """
        opportunity_id = hire.external_ids.get("opportunityId", "")
        if not _ID.match(opportunity_id):
            raise ValueError("a Lever hire needs external_ids['opportunityId'] from parse()")
        # GET /opportunities/:opportunity and /opportunities/:opportunity/offers (docs, Opportunities, Offers).
        opportunity = await api.get(f"opportunities/{opportunity_id}")
        terms = offer_terms(await api.get(f"opportunities/{opportunity_id}/offers"))
        posting = None
        if terms.posting_id:
            try:
                posting = await api.get(f"postings/{terms.posting_id}")  # docs, Postings
            except VendorApiNotFound:
                posting = None
        manager = None
        if user_id := manager_user_id(terms, posting):
            try:
                manager = await api.get(f"users/{user_id}")  # docs, Users
            except VendorApiNotFound:
                manager = None
        return lever_new_hire(hire, opportunity, terms, posting, manager)

    def api_credentials(self, token: str) -> tuple[str, str]:
        """HTTP Basic with the API key as username and a blank password (docs: ``curl -u API_KEY:``)."""
        return (token, "")


ADAPTER = LeverAdapter()


# --- pure mapping of API answers ---------------------------------------------------------------------------


def offer_terms(offers_answer: Any) -> OfferTerms:
    """The terms of the offer that describes the hire (``GET /opportunities/:id/offers``).

    The signed offer, else the most advanced other one, newest first; denied offers never count.
    Offer ``fields[]`` carry ``identifier`` and ``value`` (docs, Offers): ``job_title``,
    ``anticipated_start_date`` (epoch ms), ``direct_manager`` / ``hiring_manager`` (user ids),
    ``job_posting`` (posting id). One page is enough: a person has a handful of offers at most.
    """
    offers = _envelope(offers_answer, list, "offers")
    candidates = [o for o in offers if isinstance(o, dict) and o.get("status") in _OFFER_PREFERENCE]
    if not candidates:
        return OfferTerms()
    offer = min(candidates, key=lambda o: (_OFFER_PREFERENCE.index(o["status"]), -_number(o.get("createdAt"))))
    fields = {f.get("identifier"): f.get("value") for f in offer.get("fields") or [] if isinstance(f, dict)}
    try:
        start = parse_vendor_date(fields.get("anticipated_start_date"))
    except ValueError:
        raise VendorApiBadAnswer("Lever's offer has an anticipated_start_date that is not a date") from None
    # The direct manager is who the new hire reports to; the hiring manager ran the hiring (docs list both).
    manager = _safe_id(fields.get("direct_manager")) or _safe_id(fields.get("hiring_manager"))
    return OfferTerms(role=text(fields.get("job_title")), start_date=start, manager_user_id=manager,
                      posting_id=_safe_id(fields.get("job_posting")))


def manager_user_id(terms: OfferTerms, posting_answer: Any | None) -> str | None:
    """The offer's manager, else the posting's ``hiringManager`` (docs, Postings)."""
    if terms.manager_user_id:
        return terms.manager_user_id
    if posting_answer is None:
        return None
    return _safe_id(_envelope(posting_answer, dict, "posting").get("hiringManager"))


def lever_new_hire(hire: NewHire, opportunity_answer: Any, terms: OfferTerms,
                   posting_answer: Any | None = None, manager_answer: Any | None = None) -> NewHire:
    """``hire`` rebuilt from Lever's answers only; the webhook's ids are replaced by the API's.

    ``person_id`` is the opportunity's ``contact`` (the person across opportunities, docs:
    Opportunities). ``emails[]`` are plain strings without a type; a candidate's addresses in an ATS
    are their own, so the first one is the personal email (inferred).
    """
    opportunity = _envelope(opportunity_answer, dict, "opportunity")
    if opportunity.get("id") != hire.external_ids.get("opportunityId"):
        raise VendorApiBadAnswer("Lever answered with a different opportunity than the one asked for")
    contact = _safe_id(opportunity.get("contact"))
    if contact is None:
        raise VendorApiBadAnswer("Lever's opportunity has no contact id")
    emails = [e.strip() for e in opportunity.get("emails") or [] if isinstance(e, str) and e.strip()]
    categories: Mapping[str, Any] = {}
    posting_title = None
    if posting_answer is not None:
        posting = _envelope(posting_answer, dict, "posting")
        categories = posting.get("categories") if isinstance(posting.get("categories"), dict) else {}
        posting_title = text(posting.get("text"))
    manager = None
    if manager_answer is not None:
        manager = text(_envelope(manager_answer, dict, "user").get("name"))
    return replace(
        hire,
        person_id=contact,
        name=text(opportunity.get("name")),
        personal_email=emails[0] if emails else None,
        role=terms.role or posting_title,
        department=text(categories.get("department")),
        team=text(categories.get("team")),
        location=text(categories.get("location")),
        # Epoch ms read as a UTC date; Lever's examples are midnight UTC (inferred: no time zone documented).
        start_date=terms.start_date,
        manager=manager,
        external_ids={"opportunityId": str(opportunity["id"]), "contactId": contact},
    )


# --- helpers -----------------------------------------------------------------------------------------------


def _triggered_at_text(value: Any) -> str | None:
    """``triggeredAt`` as the decimal string Lever concatenated (``body.token + body.triggeredAt`` in JS)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # JS prints an integral number without ".0"
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return value
    return None


def _delivery_id(body: Mapping[str, Any]) -> str | None:
    """Body ``id`` ("Event UID") when present, else the single-use ``token`` (docs: cache the token and do
    not honor a later request with the same one). The docs' examples and the ping have no ``id``."""
    for key in ("id", "token"):
        value = body.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or not DELIVERY_ID.match(value):
            raise InvalidPayload([FieldProblem(key, "must be 1-256 printable ASCII characters", "string_pattern")])
        return value
    return None


def _ids(data: Mapping[str, Any], *keys: str) -> tuple[str, ...]:
    """The named ids of ``data``; every missing or malformed one is reported as ``data.<key>``."""
    problems, found = [], []
    for key in keys:
        value = _safe_id(data.get(key))
        if value is None:
            message = "required" if data.get(key) in (None, "") else "must be a Lever id (letters, digits, - or _)"
            problems.append(FieldProblem(f"data.{key}", message, "missing" if message == "required" else "id"))
        else:
            found.append(value)
    if problems:
        raise InvalidPayload(problems)
    return tuple(found)


def _leaves_archive(data: Mapping[str, Any]) -> bool:
    """Whether an archive change takes an opportunity out of an archived state (or changes its reason).

    A hired opportunity is archived with a "hired"-type reason, so un-archiving it or changing the reason
    is the closest thing Lever has to an unhire. The reason's type needs GET /archive_reasons, so any
    exit from an archived state counts; it removes nothing for people who never had a video. Archiving
    itself (fromArchived null) is ignored: that is how a hire ends up archived. The ``fromArchived`` /
    ``toArchived`` {archivedAt, reason} shape is from open-source receivers, not the docs (inferred).
    """
    before, after = data.get("fromArchived"), data.get("toArchived")
    if not isinstance(before, dict):
        return False
    return not isinstance(after, dict) or after.get("reason") != before.get("reason")


def _envelope(answer: Any, kind: type, what: str) -> Any:
    """Lever's answers are ``{"data": ...}`` (docs, every endpoint's example response)."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, kind):
        raise VendorApiBadAnswer(f"Lever's {what} answer has no data {'list' if kind is list else 'object'}")
    return data


def _safe_id(value: Any) -> str | None:
    return value if isinstance(value, str) and _ID.match(value) else None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


if TYPE_CHECKING:
    from preboarding.bridge.vendors.base import VendorAdapter

    _conforms: VendorAdapter = ADAPTER  # mypy checks the class against the protocol
