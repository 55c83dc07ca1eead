"""Standard Webhooks verification, checked against the reference library as the signer."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from standardwebhooks import Webhook

from preboarding.bridge.signatures import (
    SecretFormatError,
    SignatureError,
    authenticate,
    parse_secret,
    sign,
    verify_bearer,
    verify_signature,
)

KEY = b"k" * 32
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
NOW = 1_800_000_000
BODY = b'{"employee": {"id": "E-1"}}'


def reference_headers(secret: str = SECRET, msg_id: str = "msg_1", at: int = NOW, body: bytes = BODY) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id, dt.datetime.fromtimestamp(at, dt.UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(at), "webhook-signature": signature}


def test_our_signature_equals_the_reference_library() -> None:
    assert sign(KEY, "msg_1", NOW, BODY) == reference_headers()["webhook-signature"]


def test_reference_signature_verifies() -> None:
    assert verify_signature(reference_headers(), BODY, [parse_secret(SECRET)], NOW) == "msg_1"


def test_any_configured_secret_verifies_rotation() -> None:
    keys = [parse_secret(OTHER), parse_secret(SECRET)]
    assert verify_signature(reference_headers(secret=SECRET), BODY, keys, NOW) == "msg_1"
    assert verify_signature(reference_headers(secret=OTHER), BODY, keys, NOW) == "msg_1"


def test_one_of_several_signatures_in_the_header_may_match() -> None:
    headers = reference_headers()
    headers["webhook-signature"] = f"v1,{base64.b64encode(b'x' * 32).decode()} v2,abc {headers['webhook-signature']}"
    assert verify_signature(headers, BODY, [KEY], NOW) == "msg_1"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: (h, b + b" "), "does not match"),
        (lambda h, b: ({**h, "webhook-id": "msg_2"}, b), "does not match"),
        (lambda h, b: ({**h, "webhook-timestamp": str(NOW + 1)}, b), "does not match"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b), "missing"),
        (lambda h, b: ({**h, "webhook-signature": "v1"}, b), "no v1 signature"),
        (lambda h, b: ({**h, "webhook-signature": "v1,not*base64"}, b), "no v1 signature"),
        (lambda h, b: ({**h, "webhook-signature": "v1a,,,"}, b), "no v1 signature"),
        (lambda h, b: ({**h, "webhook-timestamp": "1e9"}, b), "whole seconds"),
        (lambda h, b: ({**h, "webhook-timestamp": "-5"}, b), "whole seconds"),
        (lambda h, b: ({**h, "webhook-id": "id with spaces"}, b), "printable ASCII"),
    ],
)
def test_tampered_or_malformed_deliveries_are_refused(change, reason) -> None:  # type: ignore[no-untyped-def]
    headers, body = change(reference_headers(), BODY)
    with pytest.raises(SignatureError, match=reason):
        verify_signature(headers, body, [KEY], NOW)


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(reference_headers(secret=OTHER), BODY, [KEY], NOW)


@pytest.mark.parametrize(("sent", "ok"), [(NOW - 300, True), (NOW - 301, False), (NOW + 300, True),
                                          (NOW + 301, False)])
def test_timestamps_beyond_five_minutes_are_refused(sent: int, ok: bool) -> None:
    headers = reference_headers(at=sent)
    if ok:
        assert verify_signature(headers, BODY, [KEY], NOW) == "msg_1"
    else:
        with pytest.raises(SignatureError, match="5 minutes"):
            verify_signature(headers, BODY, [KEY], NOW)


def test_non_utf8_bodies_are_verified_as_bytes() -> None:
    body = b"\xff\xfe{}"
    headers = {"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": sign(KEY, "m", NOW, body)}
    assert verify_signature(headers, body, [KEY], NOW) == "m"


@pytest.mark.parametrize("bad", ["", "secret", "whsec_", "whsec_!!!!", "whsec_" + base64.b64encode(b"short").decode()])
def test_bad_secrets_are_refused_without_echo(bad: str) -> None:
    with pytest.raises(SecretFormatError) as info:
        parse_secret(bad)
    if len(bad) > len("whsec_"):
        assert bad[6:] not in str(info.value)


def test_unpadded_secret_is_accepted() -> None:
    unpadded = SECRET.rstrip("=")
    assert parse_secret(unpadded) == KEY


def test_bearer_tokens() -> None:
    tokens = ["a" * 20, "b" * 20]
    assert verify_bearer("Bearer " + "b" * 20, tokens)
    assert verify_bearer("bearer " + "a" * 20, tokens)
    assert not verify_bearer("Bearer " + "c" * 20, tokens)
    assert not verify_bearer("Basic " + "a" * 20, tokens)
    assert not verify_bearer("Bearer ", tokens)
    assert not verify_bearer("Bearer " + "a" * 20, [])
    assert not verify_bearer(None, tokens)


def test_authenticate_prefers_a_valid_bearer_and_keeps_its_delivery_id() -> None:
    caller = authenticate({"authorization": "Bearer " + "t" * 20, "webhook-id": "evt-7"}, b"", [KEY], ["t" * 20], NOW)
    assert (caller.method, caller.webhook_id) == ("bearer", "evt-7")


def test_authenticate_with_signature() -> None:
    caller = authenticate(reference_headers(), BODY, [KEY], [], NOW)
    assert (caller.method, caller.webhook_id) == ("signature", "msg_1")


@pytest.mark.parametrize(
    ("headers", "keys", "tokens", "reason"),
    [
        ({}, [KEY], ["t" * 20], "sign the request"),
        ({}, [KEY], [], "missing webhook-id"),
        ({}, [], ["t" * 20], "Bearer"),
        ({"authorization": "Bearer wrong-token-000000"}, [KEY], ["t" * 20], "bearer token not accepted"),
        ({"authorization": "Bearer " + "t" * 20}, [KEY], [], "missing webhook-id"),
    ],
)
def test_authenticate_refusals(headers: dict[str, str], keys: list[bytes], tokens: list[str], reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        authenticate(headers, BODY, keys, tokens, NOW)
