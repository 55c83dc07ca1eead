"""What ``preboarding source test`` signs, every adapter verifies: the signers are the adapters' inverse."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from preboarding.api.sources import OnboardingSourceSpec, SignatureSpec, Vendor
from preboarding.bridge.signatures import SignatureError
from preboarding.bridge.vendors import adapter_for
from preboarding.bridge.vendors.base import SignedRequest
from preboarding.bridge.vendors.signers import SIGNERS, sign_generic
from tests.unit.bridge.vendors import VendorSamples

pytestmark = pytest.mark.unit

STANDARD_SECRET = "whsec_" + base64.b64encode(b"a-source-secret-of-32-bytes-long").decode()


def spec(vendor: Vendor, **extra: object) -> OnboardingSourceSpec:
    return OnboardingSourceSpec.model_validate({"vendor": vendor, "secretRef": {"name": "s", "key": "k"},
                                                "profileRef": {"name": "p"}, **extra})


def request(headers: dict[str, str], body: bytes) -> SignedRequest:
    return SignedRequest({k.lower(): v for k, v in headers.items()}, body)


@pytest.mark.parametrize("vendor", [v for v in SIGNERS if v is not Vendor.STANDARD])
def test_each_vendor_signer_round_trips_through_its_adapter(vendor: Vendor) -> None:
    adapter = adapter_for(spec(vendor))
    body = VendorSamples(vendor.value).body("hire.json")
    now = time.time()
    headers, sent = SIGNERS[vendor](body, "a-test-secret", now)
    adapter.verify(request(headers, sent), "a-test-secret", now)
    (event,) = adapter.parse(request(headers, sent))
    assert event.hires or event.person_ids
    with pytest.raises(SignatureError):
        adapter.verify(request(headers, sent), "another-secret", now)


def test_the_standard_signer_round_trips() -> None:
    adapter = adapter_for(spec(Vendor.STANDARD))
    body = (Path(__file__).resolve().parents[4] / "examples" / "new-hire.json").read_bytes()
    now = time.time()
    headers, sent = SIGNERS[Vendor.STANDARD](body, STANDARD_SECRET, now)
    adapter.verify(request(headers, sent), STANDARD_SECRET, now)


@pytest.mark.parametrize("scheme", ["standard-webhooks", "hmac-sha256-hex", "bearer"])
def test_the_generic_signer_round_trips(scheme: str) -> None:
    signature = SignatureSpec.model_validate({"scheme": scheme, "header": "X-Signature", "prefix": "sha256="})
    source = spec(Vendor.GENERIC, signature=signature.model_dump(by_alias=True),
                  mapping={"id": "id", "name": "name", "email": "email", "role": "role", "startDate": "start"})
    secret = STANDARD_SECRET if scheme == "standard-webhooks" else "a-generic-secret-0123456789"
    now = time.time()
    headers, sent = sign_generic(b'{"id": "1"}', secret, now, signature)
    adapter_for(source).verify(request(headers, sent), secret, now)
