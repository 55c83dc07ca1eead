"""SendGrid's side of its signed Event Webhook: a key pair, and batches signed and posted the way SendGrid does.

Per https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features:
the ``X-Twilio-Email-Event-Webhook-Signature`` header is base64 of an ECDSA (P-256, SHA-256, ASN.1 DER)
signature over the ``X-Twilio-Email-Event-Webhook-Timestamp`` header followed by the raw body; the
verification key SendGrid shows is base64 of the DER SubjectPublicKeyInfo.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


@dataclass
class SendGridEventSigner:
    """One account's signing key; ``verification_key`` is what an operator pastes into the bridge's settings."""

    private: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    @property
    def verification_key(self) -> str:
        der = self.private.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.private.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {"Content-Type": "application/json",
                "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": ts}


def event(kind: str, video_uid: str | None, at: int, **extra: Any) -> dict[str, Any]:
    """One event as SendGrid posts it: the custom args are top-level keys."""
    body: dict[str, Any] = {"email": "zoe@example.com", "timestamp": at, "event": kind,
                            "sg_event_id": f"ev-{kind}-{at}", "sg_message_id": "msg-1.filter0001", **extra}
    if video_uid is not None:
        body["preboarding_video_uid"] = video_uid
    return body


def batch(*events: dict[str, Any]) -> bytes:
    return json.dumps(list(events)).encode()
