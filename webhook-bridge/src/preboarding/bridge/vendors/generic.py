"""Any HR system's JSON, mapped by a source's JMESPath expressions and authenticated by its ``SignatureSpec``.

Unlike the vendor modules, there is no module-level ``ADAPTER``: what the JSON looks like and how it is signed
is per source (``spec.mapping``, ``spec.signature``), so ``GenericAdapter(mapping, signature)`` is built per
source. Construction checks the configuration and compiles every expression once; a bad expression or an
incomplete signature spec raises ``ValueError`` naming the field, which the bridge shows on the source's status.

Signature schemes:

- ``standard-webhooks``: https://www.standardwebhooks.com (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature``), checked by ``preboarding.bridge.signatures.verify_signature``; the secret is
  ``whsec_<base64>``.
- ``hmac-sha256-hex``: hex HMAC-SHA256 of the raw body with the secret (its UTF-8 bytes, as typed) in
  ``signature.header``, after ``signature.prefix`` (e.g. ``sha256=``, as GitHub and Ashby send it).
- ``bearer``: ``Authorization: Bearer <secret>``.

Every comparison is constant-time. JMESPath: https://jmespath.org/specification.html (the ``jmespath`` library).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

import jmespath
import jmespath.exceptions

from preboarding.api.sources import GenericMapping, SignatureSpec, Vendor
from preboarding.bridge.signatures import parse_secret, verify_bearer, verify_signature
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
from preboarding.bridge.vendors.payload import DELIVERY_ID, body_digest, load_json

__all__ = ["GenericAdapter"]

# GenericMapping field -> NewHire field, for the plain text fields. ``email`` is not here: it fills
# personal_email when personalEmail is not mapped or yields nothing (NewHire has no "preferred" address, and the
# source's spec.email picks personal by default, falling back to work).
TEXT_FIELDS: Mapping[str, str] = {
    "name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "personal_email": "personal_email",
    "work_email": "work_email",
    "role": "role",
    "department": "department",
    "team": "team",
    "location": "location",
    "manager": "manager",
    "buddy": "buddy",
}
EXPRESSION_FIELDS = ("id", *TEXT_FIELDS, "email", "start_date", "event")

_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_ACTION = re.compile(r"^[\w.:/-]{1,64}$", re.ASCII)


class _Missing(Exception):
    """Internal: a field's expression found nothing, or something of the wrong kind (``message`` says which)."""


@functools.lru_cache(maxsize=512)
def _compile(expression: str) -> Any:
    """A compiled JMESPath expression (cached: sources are rebuilt when their spec changes, expressions rarely)."""
    return jmespath.compile(expression)


class GenericAdapter:
    """One generic source: its JMESPath mapping and its signature scheme (see the module docstring)."""

    vendor: Vendor = Vendor.GENERIC
    default_api_url: str | None = None

    def __init__(self, mapping: GenericMapping, signature: SignatureSpec) -> None:
        """Check the configuration and compile every expression; raise ``ValueError`` naming the bad field."""
        self.mapping = mapping
        self.signature = signature
        if signature.scheme == "hmac-sha256-hex" and not signature.header:
            raise ValueError("signature.header: required for hmac-sha256-hex (the header carrying the digest)")
        if mapping.hire_events and mapping.event is None:
            raise ValueError("mapping.hireEvents: needs mapping.event (where the event's name is)")
        self._expressions: dict[str, tuple[str, Any]] = {}
        for field_name in EXPRESSION_FIELDS:
            expression = getattr(mapping, field_name)
            if expression is None:
                continue
            try:
                self._expressions[field_name] = (expression, _compile(expression))
            except jmespath.exceptions.JMESPathError as exc:
                detail = " ".join(str(exc).split())  # jmespath's message spans lines, with a caret
                raise ValueError(f"{_label(field_name)}: not a valid JMESPath expression: {detail}") from None

    def unsigned_ping(self, request: SignedRequest) -> bool:
        """Never: a generic sender has no connection-test convention."""
        return False

    def verify(self, request: SignedRequest, secret: str, now: float) -> None:
        """Authenticate by the source's scheme; raise ``SignatureError`` with a reason safe to show.

        For standard-webhooks a secret that is not ``whsec_<base64>`` raises ``SecretFormatError`` (a
        ``ValueError``): that is the source's configuration, not the sender's fault.
        """
        if not secret:
            raise SignatureError("the source has no webhook secret")
        scheme = self.signature.scheme
        if scheme == "standard-webhooks":
            verify_signature(request.headers, request.body, [parse_secret(secret)], now)
        elif scheme == "hmac-sha256-hex":
            self._verify_hmac(request, secret)
        elif not verify_bearer(request.headers.get("authorization"), [secret]):
            raise SignatureError("send Authorization: Bearer <the source's secret>")

    def _verify_hmac(self, request: SignedRequest, secret: str) -> None:
        header = self.signature.header or ""  # checked in __init__
        prefix = self.signature.prefix
        value = request.headers.get(header.lower(), "").strip()
        if not value:
            raise SignatureError(f"missing {header} header")
        # The prefix names an algorithm ("sha256="): compared without regard to case, like the hex digits.
        if value[: len(prefix)].lower() != prefix.lower():
            raise SignatureError(f"{header} must start with {prefix!r}")
        digest = value[len(prefix):].strip()
        if not _HEX_SHA256.match(digest):
            raise SignatureError(f"{header} must carry a hex HMAC-SHA256 digest (64 hex digits)")
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, digest.lower()):
            raise SignatureError(f"{header} does not match")

    def parse(self, request: SignedRequest) -> tuple[VendorEvent]:
        """HIRE of the one person the mapping describes, or IGNORED when ``event`` is not in ``hireEvents``.

        Raises ``InvalidPayload`` naming each mapping field that found nothing usable (``mapping.startDate``);
        messages quote the expression, never the payload's values.
        """
        data = load_json(request.body)  # any JSON, not only objects
        delivery_id = self._delivery_id(request)
        # An unreadable event name (an object, say) is no name: not listed in hireEvents, so ignored.
        event = self._text(data, "event", []) if "event" in self._expressions else None
        name = event if event and _ACTION.match(event) else None  # arbitrary names must not flood metrics
        if self.mapping.hire_events and event not in self.mapping.hire_events:
            return (VendorEvent(EventKind.IGNORED, name or "unknown", delivery_id),)

        problems: list[FieldProblem] = []
        person_id = self._text(data, "id", problems, required=True)
        start_date = self._date(data, problems)
        text = {attr: self._text(data, field_name, problems) for field_name, attr in TEXT_FIELDS.items()}
        email = self._text(data, "email", problems)
        if problems:
            raise InvalidPayload(problems)
        hire = NewHire(
            person_id=person_id or "",  # never empty here: a missing id is one of the problems above
            name=text["name"],
            first_name=text["first_name"],
            last_name=text["last_name"],
            personal_email=text["personal_email"] or email,
            work_email=text["work_email"],
            role=text["role"],
            department=text["department"],
            team=text["team"],
            location=text["location"],
            manager=text["manager"],
            buddy=text["buddy"],
            start_date=start_date,
        )
        return (VendorEvent(EventKind.HIRE, name or "generic", delivery_id, hires=(hire,)),)

    def needs_lookup(self, hire: NewHire) -> bool:
        """Never: a generic source has no API."""
        return False

    async def complete(self, hire: NewHire, api: VendorApi) -> NewHire:
        """``hire`` as is."""
        return hire

    def api_credentials(self, token: str) -> tuple[str, str]:
        """Unused (no API); the token as Basic username, like most vendors."""
        return (token, "")

    # -- reading the mapped fields --------------------------------------------------------------------------

    def _search(self, data: Any, field_name: str) -> tuple[str, Any]:
        """The field's expression and what it finds (None when unmapped). Raises ``_Missing`` if it cannot run."""
        if field_name not in self._expressions:
            return "", None
        expression, compiled = self._expressions[field_name]
        try:
            return expression, compiled.search(data)
        except jmespath.exceptions.JMESPathError as exc:
            # Not str(exc): jmespath's type errors quote the offending value.
            raise _Missing(f"`{expression}` cannot be evaluated on this payload ({type(exc).__name__})") from None

    def _text(self, data: Any, field_name: str, problems: list[FieldProblem], *, required: bool = False) -> str | None:
        try:
            expression, value = self._search(data, field_name)
            value = _first(value)
            if isinstance(value, bool | dict | list):
                raise _Missing(f"expected a string at `{expression}`, found {_json_type(value)}")
            if isinstance(value, int | float):
                value = str(value)  # numeric ids are common
            if isinstance(value, str) and value.strip():
                return value.strip()
            if required:
                raise _Missing(f"no value at `{expression}`")
        except _Missing as missing:
            problems.append(FieldProblem(_label(field_name), str(missing), "missing"))
        return None

    def _date(self, data: Any, problems: list[FieldProblem]) -> dt.date | None:
        try:
            expression, value = self._search(data, "start_date")
            value = _first(value)
            if value is None or value == "":
                raise _Missing(f"no value at `{expression}`")
            if isinstance(value, dict | list):
                raise _Missing(f"expected a date at `{expression}`, found {_json_type(value)}")
            try:
                return parse_vendor_date(value)
            except (ValueError, OverflowError, OSError):  # a fixed message: the error may quote the value
                raise _Missing(f"not a valid date at `{expression}`: expected YYYY-MM-DD or MM/DD/YYYY") from None
        except _Missing as missing:
            problems.append(FieldProblem(_label("start_date"), str(missing), "missing"))
        return None

    def _delivery_id(self, request: SignedRequest) -> str:
        """``signature.deliveryIdHeader``, else (standard-webhooks) ``webhook-id``, else a digest of the body."""
        for header in (self.signature.delivery_id_header,
                       "webhook-id" if self.signature.scheme == "standard-webhooks" else None):
            value = request.headers.get(header.lower(), "").strip() if header else ""
            if DELIVERY_ID.match(value):
                return value
        return body_digest(request.body)


def _first(value: Any) -> Any:
    """A projection's first non-empty item (``emails[?type=='work'].value`` yields a list); anything else as is."""
    if isinstance(value, list):
        return next((item for item in value if item is not None and item != ""), None)
    return value


def _label(field_name: str) -> str:
    """``start_date`` -> ``mapping.startDate``: the field as the OnboardingSource spec spells it."""
    return "mapping." + (GenericMapping.model_fields[field_name].alias or field_name)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return "an object" if isinstance(value, dict) else "an array"
