"""Signing a delivery the way each vendor does (pure): what ``preboarding source test`` sends.

Each is the inverse of the adapter's ``verify`` and follows the same documentation (cited in the vendor
modules); ``tests/unit/bridge/vendors/test_signers.py`` checks every round trip, so the two cannot drift.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable

from preboarding.api.sources import SignatureSpec, Vendor
from preboarding.bridge.signatures import parse_secret, sign

Signed = tuple[dict[str, str], bytes]


def _hex(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def sign_greenhouse(body: bytes, secret: str, now: float) -> Signed:
    return {"Content-Type": "application/json", "Greenhouse-Event-ID": str(uuid.uuid4()),
            "Signature": f"sha256 {_hex(secret, body)}"}, body


def sign_ashby(body: bytes, secret: str, now: float) -> Signed:
    return {"Content-Type": "application/json", "Ashby-Signature": f"sha256={_hex(secret, body)}"}, body


def sign_bamboohr(body: bytes, secret: str, now: float) -> Signed:
    timestamp = str(int(now))
    return {"Content-Type": "application/json", "X-BambooHR-Timestamp": timestamp,
            "X-BambooHR-Signature": _hex(secret, body + timestamp.encode())}, body


def sign_hibob(body: bytes, secret: str, now: float) -> Signed:
    digest = hmac.new(secret.encode(), body, hashlib.sha512).digest()
    return {"Content-Type": "application/json", "Bob-Signature": base64.b64encode(digest).decode()}, body


def sign_lever(body: bytes, secret: str, now: float) -> Signed:
    """Lever signs inside the body: a fresh token and triggeredAt (ms), and hex HMAC of their concatenation."""
    document = json.loads(body)
    document["token"] = secrets.token_hex(24)
    document["triggeredAt"] = int(now * 1000)
    document["signature"] = _hex(secret, f"{document['token']}{document['triggeredAt']}".encode())
    return {"Content-Type": "application/json"}, json.dumps(document).encode()


def sign_standard(body: bytes, secret: str, now: float) -> Signed:
    webhook_id = f"msg_{uuid.uuid4().hex}"
    return {"Content-Type": "application/json", "webhook-id": webhook_id, "webhook-timestamp": str(int(now)),
            "webhook-signature": sign(parse_secret(secret), webhook_id, int(now), body)}, body


SIGNERS: dict[Vendor, Callable[[bytes, str, float], Signed]] = {
    Vendor.GREENHOUSE: sign_greenhouse,
    Vendor.ASHBY: sign_ashby,
    Vendor.BAMBOOHR: sign_bamboohr,
    Vendor.HIBOB: sign_hibob,
    Vendor.LEVER: sign_lever,
    Vendor.STANDARD: sign_standard,
}


def sign_generic(body: bytes, secret: str, now: float, signature: SignatureSpec) -> Signed:
    """A generic source's delivery, signed by its ``spec.signature``."""
    if signature.scheme == "standard-webhooks":
        return sign_standard(body, secret, now)
    if signature.scheme == "bearer":
        return {"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}, body
    headers = {"Content-Type": "application/json", signature.header or "X-Signature":
               f"{signature.prefix}{_hex(secret, body)}"}
    if signature.delivery_id_header:
        headers[signature.delivery_id_header] = str(uuid.uuid4())
    return headers, body
