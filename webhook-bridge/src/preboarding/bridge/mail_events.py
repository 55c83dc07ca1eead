"""SendGrid Event Webhook deliveries (pure: no clock, no I/O; the caller passes ``now`` and the raw body).

Signature, per "Getting Started with the Event Webhook Security Features"
(https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features;
its source: github.com/sendgrid/docs, ``content/docs/for-developers/tracking-events/``
``getting-started-event-webhook-security-features.md``): ``X-Twilio-Email-Event-Webhook-Signature`` is the
base64 of an ASN.1 DER ECDSA signature over SHA-256 of the ``X-Twilio-Email-Event-Webhook-Timestamp`` header
followed by the raw body bytes. The verification key shown in the SendGrid UI (and returned by
``GET /v3/user/webhooks/event/settings/signed``) is the base64 of a DER SubjectPublicKeyInfo. The page says only
"ECDSA"; the curve is P-256 in every key SendGrid publishes (its helpers, linked from that page, e.g.
github.com/sendgrid/sendgrid-python ``sendgrid/helpers/eventwebhook``, wrap it in PEM armour and load it).
SendGrid documents no replay window: ours is ``TOLERANCE``.

Events, per the "Event Webhook Reference" (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event):
the body is a JSON array of objects with ``email``, ``timestamp`` (Unix seconds), ``event`` (processed, dropped,
delivered, deferred, bounce, open, click, spamreport, unsubscribe, group_unsubscribe, group_resubscribe),
``sg_event_id`` (for deduplication), ``sg_message_id`` (absent for asynchronous bounces), ``reason`` and, on
``bounce``, ``type`` ("bounce" for a hard bounce, "blocked" for a block). The v3 Mail Send ``custom_args`` come
back as top-level keys of each event; reserved keys (``event``, ``email``, ...) win over a custom arg of the same
name, hence the prefixed ``CUSTOM_ARG``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic_core
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from preboarding.api.delivery import MAIL_VIDEO_ARG, advance
from preboarding.api.fields import field_path
from preboarding.api.models import DeliveryState
from preboarding.bridge.intake import FieldProblem, InvalidPayload
from preboarding.bridge.signatures import SignatureError

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
CUSTOM_ARG = MAIL_VIDEO_ARG  # set in the Mail Send ``custom_args``; the video, never the address
TOLERANCE = timedelta(minutes=10)
MAX_EVENTS = 1000  # SendGrid documents no batch size; a request with more is refused, not truncated

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_MAX_SIGNATURE_CHARS = 200  # a DER P-256 signature is at most 72 bytes (96 base64 characters)
_MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z: the last second a datetime can hold
_VIDEO_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # a Kubernetes UID, with room to spare
_MAX_KIND_CHARS = 64
_MAX_REASON_CHARS = 300
# SMTP replies often quote the recipient ("550 5.1.1 <jo@example.com>: unknown user"): the address is dropped.
_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")
_PEM_ARMOUR = re.compile(r"-----(BEGIN|END) PUBLIC KEY-----")


class VerificationKeyError(ValueError):
    """The configured SendGrid verification key is unusable; the message never contains the key."""


class MailEventKey:
    """SendGrid's Event Webhook verification key (an EC P-256 public key)."""

    __slots__ = ("_key",)

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        if not isinstance(key.curve, ec.SECP256R1):
            raise VerificationKeyError(f"the SendGrid verification key must be EC P-256, not {key.curve.name}")
        self._key = key

    @classmethod
    def parse(cls, text: str) -> MailEventKey:
        """The key as SendGrid shows it (base64 DER SubjectPublicKeyInfo; PEM armour tolerated).

        Raises ``VerificationKeyError`` (a ``ValueError``) saying what is wrong, never echoing the text.
        """
        encoded = "".join(_PEM_ARMOUR.sub("", text).split())
        if not encoded:
            raise VerificationKeyError("the SendGrid verification key is empty")
        try:
            der = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise VerificationKeyError("the SendGrid verification key is not base64") from None
        try:
            key = load_der_public_key(der)
        except (ValueError, UnsupportedAlgorithm):
            raise VerificationKeyError(
                "the SendGrid verification key is not a DER public key (copy it from Settings > Mail Settings"
                " > Event Webhooks, or GET /v3/user/webhooks/event/settings/signed)"
            ) from None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            kind = type(key).__name__.removesuffix("PublicKey") or "another type"
            raise VerificationKeyError(f"the SendGrid verification key must be an EC P-256 key, not {kind}")
        return cls(key)

    def __repr__(self) -> str:
        return "MailEventKey(P-256)"

    def verifies(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` (DER) signs ``data`` with SHA-256."""
        try:
            self._key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True


def verify(
    key: MailEventKey,
    signature_b64: str | None,
    timestamp: str | None,
    body: bytes,
    now: datetime,
    tolerance: timedelta = TOLERANCE,
) -> None:
    """Check a signed Event Webhook delivery; raises ``SignatureError`` with a reason safe to return.

    ``signature_b64`` and ``timestamp`` are the ``SIGNATURE_HEADER`` and ``TIMESTAMP_HEADER`` values (``None``
    when absent); ``body`` is the raw request body (re-serialised JSON would not verify); ``now`` is aware.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not signature_b64 or not timestamp:
        raise SignatureError(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")
    if not _TIMESTAMP.match(timestamp):
        raise SignatureError(f"{TIMESTAMP_HEADER} must be Unix time in whole seconds")
    if len(signature_b64) > _MAX_SIGNATURE_CHARS:
        raise SignatureError(f"{SIGNATURE_HEADER} is not a base64 ECDSA signature")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{SIGNATURE_HEADER} is not base64") from None
    # The window before the signature: a replay is refused without spending an ECDSA verification.
    age = now.timestamp() - int(timestamp)
    window = tolerance.total_seconds()
    if age > window:
        raise SignatureError(f"{TIMESTAMP_HEADER} is more than {_duration(tolerance)} old")
    if age < -window:
        raise SignatureError(f"{TIMESTAMP_HEADER} is more than {_duration(tolerance)} in the future")
    # The header's own characters are what SendGrid signed, so they are used as received.
    if not key.verifies(signature, timestamp.encode("ascii") + body):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match")


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 60 == 0 and seconds >= 60:
        minutes = seconds // 60
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    return f"{seconds} second" + ("s" if seconds != 1 else "")


@dataclass(frozen=True)
class MailEvent:
    """One SendGrid event, without the recipient's address.

    ``video_uid`` is the ``CUSTOM_ARG`` (``None``: not our mail, the caller ignores it); ``kind`` is SendGrid's
    ``event`` in lower case; ``reason`` is SendGrid's, with any address in it replaced and the length bounded;
    ``bounce_type`` is ``type`` ("bounce" or "blocked") on bounce events.
    """

    video_uid: str | None
    kind: str
    at: datetime
    message_id: str | None
    event_id: str | None
    reason: str | None
    bounce_type: str | None = None


def parse_events(body: bytes, limit: int = MAX_EVENTS) -> list[MailEvent]:
    """Raw Event Webhook body -> events, in the order sent. Raises ``InvalidPayload`` naming every bad field.

    Fields are named by index (``body[3].timestamp``); values are never quoted (they may be personal data).
    """
    try:
        data = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise InvalidPayload([FieldProblem("body", f"the body is not valid JSON: {exc}", "json_invalid")]) from None
    if not isinstance(data, list):
        raise InvalidPayload([FieldProblem("body", "must be a JSON array of events", "list_type")])
    if len(data) > limit:
        raise InvalidPayload([FieldProblem(
            "body", f"at most {limit} events per request, got {len(data)}", "too_long")])
    events: list[MailEvent] = []
    problems: list[FieldProblem] = []
    for index, item in enumerate(data):
        event = _parse_event(index, item, problems)
        if event is not None:
            events.append(event)
    if problems:
        raise InvalidPayload(problems)
    return events


def _parse_event(index: int, item: Any, problems: list[FieldProblem]) -> MailEvent | None:
    """One array element, or ``None`` with its problems appended."""
    if not isinstance(item, dict):
        problems.append(FieldProblem(field_path(("body", index)), "must be an object", "dict_type"))
        return None
    before = len(problems)

    def where(key: str) -> str:
        return field_path(("body", index, key))

    kind = item.get("event")
    if not isinstance(kind, str) or not kind.strip():
        problems.append(FieldProblem(where("event"), "must be a non-empty string (the event type)",
                                     "missing" if kind is None else "string_type"))
    elif len(kind) > _MAX_KIND_CHARS:
        problems.append(FieldProblem(where("event"), f"must be at most {_MAX_KIND_CHARS} characters", "too_long"))

    at = _timestamp(item.get("timestamp"))
    if at is None:
        problems.append(FieldProblem(where("timestamp"), "must be Unix time in whole seconds",
                                     "missing" if item.get("timestamp") is None else "int_type"))

    texts: dict[str, str | None] = {}
    for key in ("sg_message_id", "sg_event_id", "reason", "type"):
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(FieldProblem(where(key), "must be a string", "string_type"))
        texts[key] = value if isinstance(value, str) else None

    video_uid = item.get(CUSTOM_ARG)
    if video_uid is not None and not (isinstance(video_uid, str) and _VIDEO_UID.match(video_uid)):
        problems.append(FieldProblem(where(CUSTOM_ARG), "must be the video's uid (letters, digits, '.', '_', '-')",
                                     "string_pattern_mismatch"))

    if len(problems) > before or not isinstance(kind, str) or at is None:
        return None
    return MailEvent(
        video_uid=video_uid,
        kind=kind.strip().lower(),
        at=at,
        message_id=texts["sg_message_id"],
        event_id=texts["sg_event_id"],
        reason=_safe_reason(texts["reason"]),
        bounce_type=texts["type"].lower() if texts["type"] is not None else None,
    )


def _timestamp(value: Any) -> datetime | None:
    # A JSON integer; a string of digits too, as the Event Webhook reference's own reserved-keys example sends one.
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _TIMESTAMP.match(value):
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= _MAX_TIMESTAMP:
        return None
    return datetime.fromtimestamp(value, UTC)


def _safe_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    cleaned = " ".join(_ADDRESS.sub("<address>", reason).split())
    if len(cleaned) > _MAX_REASON_CHARS:
        cleaned = cleaned[: _MAX_REASON_CHARS - 1] + "…"
    return cleaned or None


_KIND_STATES: dict[str, DeliveryState] = {
    "delivered": "Delivered",
    "bounce": "Bounced",
    "dropped": "Dropped",
    "open": "Opened",
    "click": "Opened",  # a click without an open: images off, the link still followed
}


def delivery_state(kind: str, bounce_type: str | None = None) -> DeliveryState | None:
    """The state a SendGrid event reports, or ``None`` when it says nothing about delivery.

    delivered -> Delivered; bounce -> Bounced, whether ``bounce_type`` is "bounce" (hard bounce) or "blocked"
    (SendGrid's block list holds refused messages, not retried ones: either way this message did not arrive);
    dropped -> Dropped; open and click -> Opened. processed, deferred (SendGrid retries), spamreport,
    unsubscribe, group_* and unknown kinds -> ``None``.
    """
    del bounce_type  # both bounce types are Bounced; kept so callers pass what SendGrid sent
    return _KIND_STATES.get(kind.lower())


def fold(events: Iterable[MailEvent], current: str | None = None) -> tuple[str | None, datetime | None]:
    """The events of one video's one delivery -> (state, time of the latest event that reports a state).

    Applies ``preboarding.api.delivery.advance`` from ``current`` in timestamp order (a stable sort: events
    of the same second keep the order SendGrid sent them). Events that report no state (processed, deferred,
    ...) are skipped and do not count for the time. Raises ``ValueError`` if the events name more than one video.
    """
    ordered = sorted(events, key=lambda e: e.at)
    if len({e.video_uid for e in ordered}) > 1:
        raise ValueError("fold takes the events of one video")
    state = current
    last_at: datetime | None = None
    for event in ordered:
        reported = delivery_state(event.kind, event.bounce_type)
        if reported is None:
            continue
        state = advance(state, reported)
        last_at = event.at
    return state, last_at
