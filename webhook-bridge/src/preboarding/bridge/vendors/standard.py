"""``standard``: the native new-hire payload (``preboarding.api.payload.NewHirePayload``) at a source URL,
signed with Standard Webhooks (https://www.standardwebhooks.com/, the same scheme as
``/webhooks/user-onboarding``) with the source's ``whsec_`` secret.

At a source the company, defaults and team content come from the source's profile: a payload's own
``company`` and ``options`` are not used there (the logo is an administrator's choice, not a webhook's),
and its ``techStack`` and ``schedule`` win over the team entry's when given.
"""

from __future__ import annotations

from typing import Any

from preboarding.api.sources import Vendor
from preboarding.bridge.hires import payload_hire
from preboarding.bridge.intake import InvalidJson, parse_new_hire
from preboarding.bridge.signatures import SecretFormatError, SignatureError, parse_secret, verify_signature
from preboarding.bridge.vendors.base import (
    EventKind,
    FieldProblem,
    InvalidPayload,
    NewHire,
    SignedRequest,
    VendorApi,
    VendorEvent,
)


class StandardAdapter:
    vendor = Vendor.STANDARD
    default_api_url: str | None = None

    def unsigned_ping(self, request: SignedRequest) -> bool:
        return False

    def verify(self, request: SignedRequest, secret: str, now: float) -> None:
        try:
            key = parse_secret(secret)
        except SecretFormatError as exc:
            # The Secret is wrong, not the delivery: say so without echoing it.
            raise SignatureError(f"the source's secret is not a Standard Webhooks secret ({exc})") from None
        verify_signature(request.headers, request.body, [key], now)

    def parse(self, request: SignedRequest) -> tuple[VendorEvent]:
        try:
            parsed = parse_new_hire(request.body, profile_implied=True)
        except InvalidJson as exc:
            raise InvalidPayload([FieldProblem("body", str(exc), "json_invalid")]) from None
        return (VendorEvent(EventKind.HIRE, "new_hire", delivery_id=request.headers.get("webhook-id"),
                            hires=(payload_hire(parsed.payload),)),)

    def needs_lookup(self, hire: NewHire) -> bool:
        return False

    async def complete(self, hire: NewHire, api: VendorApi) -> NewHire:
        return hire

    def api_credentials(self, token: str) -> tuple[str, str]:
        return token, ""


ADAPTER: Any = StandardAdapter()
