"""Standard Webhooks signatures and bearer tokens (pure: no clock, no I/O; the caller passes ``now``).

A signed delivery carries ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``
(space-separated ``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``). Secrets are
``whsec_<base64 key>``; several are accepted so a secret can be rotated without dropping deliveries.

Why not ``standardwebhooks.Webhook.verify``: it decodes the body as UTF-8 and raises ``ValueError`` /
``binascii.Error`` (not its own error) on malformed signature headers, reads the wall clock itself and
takes one secret. The tests use the library as the reference signer, so both stay interoperable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300
_WEBHOOK_ID = re.compile(r"^[\x21-\x7e]{1,256}$")  # printable ASCII: it ends up in an annotation
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


class SecretFormatError(ValueError):
    """A configured secret is not ``whsec_<base64>``."""


class SignatureError(Exception):
    """The request is not authenticated; ``reason`` is safe to show to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Caller:
    """Who made an authenticated request."""

    method: str  # "signature" or "bearer"
    webhook_id: str | None = None


def parse_secret(secret: str) -> bytes:
    """``whsec_<base64>`` -> the HMAC key. Raises ``SecretFormatError`` (without echoing the secret)."""
    if not secret.startswith(SECRET_PREFIX):
        raise SecretFormatError(f"a Standard Webhooks secret starts with {SECRET_PREFIX!r}")
    encoded = secret[len(SECRET_PREFIX):]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SecretFormatError(f"the part after {SECRET_PREFIX!r} is not base64") from None
    if len(key) < 16:
        raise SecretFormatError("the key must be at least 16 bytes (24-64 recommended)")
    return key


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value (one ``v1`` signature) for a delivery."""
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_signature(
    headers: Mapping[str, str],
    body: bytes,
    keys: Sequence[bytes],
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> str:
    """Check a Standard Webhooks signature; returns the ``webhook-id``. Raises ``SignatureError``."""
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (webhook_id and timestamp and signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not _WEBHOOK_ID.match(webhook_id):
        raise SignatureError("webhook-id must be 1-256 printable ASCII characters")
    if not _TIMESTAMP.match(timestamp):
        raise SignatureError("webhook-timestamp must be Unix time in whole seconds")
    sent = int(timestamp)
    if sent < now - tolerance:
        raise SignatureError("webhook-timestamp is more than 5 minutes old")
    if sent > now + tolerance:
        raise SignatureError("webhook-timestamp is more than 5 minutes in the future")
    candidates = []
    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not candidates:
        raise SignatureError("webhook-signature has no v1 signature")
    for key in keys:
        expected = base64.b64decode(sign(key, webhook_id, sent, body)[3:])
        # compare_digest against every candidate: no early exit that would time the match.
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return webhook_id
    raise SignatureError("webhook-signature does not match")


def verify_bearer(authorization: str | None, tokens: Sequence[str]) -> bool:
    """True when ``Authorization: Bearer <token>`` names one of ``tokens`` (constant-time compare)."""
    if not authorization or not tokens:
        return False
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    presented = token.strip().encode()
    matches = [hmac.compare_digest(presented, t.encode()) for t in tokens]
    return any(matches)


def authenticate(
    headers: Mapping[str, str],
    body: bytes,
    keys: Sequence[bytes],
    tokens: Sequence[str],
    now: float,
) -> Caller:
    """A valid signature or a valid bearer token; raises ``SignatureError`` with the reason otherwise.

    ``headers`` must have lower-case names (Starlette's ``Headers`` does). A bearer caller may still send
    ``webhook-id``, which then serves as the delivery id for idempotency.
    """
    if verify_bearer(headers.get("authorization"), tokens):
        webhook_id = headers.get("webhook-id")
        if webhook_id is not None and not _WEBHOOK_ID.match(webhook_id):
            raise SignatureError("webhook-id must be 1-256 printable ASCII characters")
        return Caller(method="bearer", webhook_id=webhook_id)
    if keys and any(h in headers for h in ("webhook-id", "webhook-timestamp", "webhook-signature")):
        return Caller(method="signature", webhook_id=verify_signature(headers, body, keys, now))
    if headers.get("authorization") and tokens:
        raise SignatureError("bearer token not accepted")
    if keys and tokens:
        raise SignatureError("sign the request (Standard Webhooks) or send Authorization: Bearer <token>")
    if keys:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    raise SignatureError("send Authorization: Bearer <token>")
