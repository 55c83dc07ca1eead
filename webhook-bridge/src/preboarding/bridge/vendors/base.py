"""What every HR vendor adapter provides, and the vendor-neutral shapes they produce (pure).

A delivery goes through an adapter in three steps, the first two pure:

1. ``verify(request, secret, now)``: the vendor's signature over the raw bytes (Lever: over fields of the
   body), before anything else is read. Raises ``SignatureError`` (401, nothing created).
2. ``parse(request)``: the vendor's JSON -> its ``VendorEvent``s, in order (one for most vendors; a
   BambooHR field-based POST batches several): a hire (one or several people), an update of people who
   may already have a video, a removal, a ping, or something to ignore. Raises ``InvalidPayload``
   naming the bad fields (422).
3. ``complete(hire, api)``: for webhooks that carry only ids, look the person up through the vendor's API
   (``VendorApiClient``, the I/O edge). Adapters whose webhooks carry everything return ``hire`` as is.

Adapters never build OnboardingVideos: ``preboarding.bridge.hires`` turns a ``NewHire`` plus the
source's OnboardingProfile into the manifest.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from preboarding.api.sources import Vendor
from preboarding.bridge.intake import FieldProblem, InvalidPayload
from preboarding.bridge.signatures import SignatureError

__all__ = [
    "EventKind",
    "FieldProblem",
    "InvalidPayload",
    "NewHire",
    "SignatureError",
    "SignedRequest",
    "VendorAdapter",
    "VendorApi",
    "VendorEvent",
    "parse_vendor_date",
]


@dataclass(frozen=True)
class SignedRequest:
    """A delivery as received: lower-case header names and the raw body bytes."""

    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class NewHire:
    """One person as an HR system describes them, before any profile is applied.

    ``person_id`` is the vendor's stable id of the person (the candidate, not the application), so one
    person hired through one source is one video. Everything else may be missing: the mapping fills in
    from the profile, and names what is still missing in a 422.
    """

    person_id: str
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    personal_email: str | None = None
    work_email: str | None = None
    role: str | None = None
    department: str | None = None
    team: str | None = None
    location: str | None = None
    start_date: dt.date | None = None
    manager: str | None = None
    buddy: str | None = None
    language: str | None = None
    # Rarely sent by HR systems (the native payload and generic mappings can): they win over the profile's.
    tech_stack: tuple[str, ...] = ()
    schedule: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (day, items) per day of the first week
    external_ids: Mapping[str, str] = field(default_factory=dict)

    def full_name(self) -> str | None:
        """``name``, else first and last name joined."""
        if self.name and self.name.strip():
            return self.name.strip()
        joined = " ".join(p.strip() for p in (self.first_name, self.last_name) if p and p.strip())
        return joined or None


class EventKind(enum.StrEnum):
    HIRE = "hire"  # create the person's video, or update it when it exists
    UPDATE = "update"  # changed data of people who may have a video: update those that exist, create none
    REMOVE = "remove"  # hire rescinded or person deleted: delete their videos
    PING = "ping"  # the vendor's connection test: 200, nothing else
    IGNORED = "ignored"  # any other event: 200 "ignored", counted


@dataclass(frozen=True)
class VendorEvent:
    """What one delivery means, vendor-neutral."""

    kind: EventKind
    action: str  # the vendor's own event name, for logs and metrics (never payload data)
    delivery_id: str | None = None  # the vendor's delivery id, or a digest of what identifies the delivery
    hires: tuple[NewHire, ...] = ()  # HIRE and UPDATE: possibly only ids, completed through the API
    person_ids: tuple[str, ...] = ()  # REMOVE: whose videos go


class VendorApi(Protocol):
    """The vendor's HTTP API as adapters see it (``preboarding.bridge.vendor_api.VendorApiClient``).

    Both calls return the decoded JSON body. They raise ``VendorApiUnavailable`` (network, timeout, 5xx,
    429: the vendor should redeliver later), ``VendorApiUnauthorized`` (401/403) or ``VendorApiNotFound``.
    """

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any: ...
    async def post(self, path: str, json: Any) -> Any: ...


class VendorAdapter(Protocol):
    """One HR vendor's webhook: its signature, its payloads and, if needed, its API."""

    vendor: Vendor
    default_api_url: str | None  # None: the vendor's webhooks carry everything, no API needed

    def unsigned_ping(self, request: SignedRequest) -> bool:
        """Whether this is the vendor's connection test sent without a signature (answered 200, nothing done)."""
        ...

    def verify(self, request: SignedRequest, secret: str, now: float) -> None:
        """Check the vendor's signature; raise ``SignatureError`` with a reason safe to show."""
        ...

    def parse(self, request: SignedRequest) -> tuple[VendorEvent, ...]:
        """Every event in the delivery, in order (at least one); raise ``InvalidPayload`` naming each bad field."""
        ...

    def needs_lookup(self, hire: NewHire) -> bool:
        """Whether ``hire`` must be completed through the vendor's API."""
        ...

    async def complete(self, hire: NewHire, api: VendorApi) -> NewHire:
        """``hire`` with what the vendor's API knows about the person."""
        ...

    def api_credentials(self, token: str) -> tuple[str, str]:
        """HTTP Basic (user, password) for the API token stored in the source's Secret."""
        ...


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_vendor_date(value: Any) -> dt.date | None:
    """A start date as vendors send it: ``YYYY-MM-DD`` (optionally with a time), ``MM/DD/YYYY``, or epoch ms.

    Returns None for an empty value; raises ``ValueError`` for one it cannot read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("not a date")
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC).date()
    text = str(value).strip()
    if match := _ISO_DATE.match(text):
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    if match := _US_DATE.match(text):
        return dt.date(int(match[3]), int(match[1]), int(match[2]))
    raise ValueError("expected YYYY-MM-DD or MM/DD/YYYY")
