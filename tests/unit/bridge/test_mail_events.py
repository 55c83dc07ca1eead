"""SendGrid Event Webhook: signature verification, event parsing and the delivery-state rule."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from preboarding.bridge.intake import InvalidPayload
from preboarding.bridge.mail_events import (
    CUSTOM_ARG,
    MailEvent,
    MailEventKey,
    VerificationKeyError,
    delivery_state,
    fold,
    parse_events,
    verify,
)
from preboarding.bridge.signatures import SignatureError

pytestmark = pytest.mark.unit

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
UID = "6f1c2a4e-0b7d-4c55-9a61-3f2d8e9b7c10"


def public_key_text(private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    """The key as the SendGrid UI shows it: base64 of the DER SubjectPublicKeyInfo."""
    der = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def sign(private: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    """What SendGrid sends: base64(DER ECDSA-SHA256(timestamp + body))."""
    return base64.b64encode(private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()


PRIVATE = ec.generate_private_key(ec.SECP256R1())
KEY = MailEventKey.parse(public_key_text(PRIVATE))
TS = str(int(NOW.timestamp()))


def event(**fields: Any) -> dict[str, Any]:
    return {"email": "new.hire@example.com", "timestamp": int(NOW.timestamp()), "event": "delivered",
            "sg_event_id": "ev-1", "sg_message_id": "msg-1.filter0001", CUSTOM_ARG: UID, **fields}


BODY = json.dumps([event()]).encode() + b"\r\n"


# --- signature ---------------------------------------------------------------------------------------------------

def test_a_good_signature_verifies() -> None:
    verify(KEY, sign(PRIVATE, TS, BODY), TS, BODY, NOW)


def test_the_published_sendgrid_example_verifies() -> None:
    # SendGrid's own helper test, from the "Sample verification libraries" the security page links:
    # https://github.com/sendgrid/sendgrid-python/blob/main/test/unit/test_eventwebhook.py
    # (the raw body ends with "\r\n", which is signed too).
    key = MailEventKey.parse("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62"
                             "gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==")
    signature = ("MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=")
    timestamp = "1600112502"
    body = (b'[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address",'
            b'"sg_event_id":"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",'
            b'"sg_message_id":"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",'
            b'"smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]\r\n')
    then = datetime.fromtimestamp(1600112502, UTC)
    verify(key, signature, timestamp, body, then)
    with pytest.raises(SignatureError, match="does not match"):
        verify(key, signature, timestamp, body.rstrip(), then)  # without the trailing CRLF
    [dropped] = parse_events(body)
    assert dropped == MailEvent(video_uid=None, kind="dropped", at=datetime.fromtimestamp(1600112492, UTC),
                                message_id="LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
                                event_id="ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
                                reason="Bounced Address")


@pytest.mark.parametrize(
    ("signature", "timestamp", "body", "reason"),
    [
        (sign(PRIVATE, TS, BODY), TS, BODY + b" ", "does not match"),
        (sign(PRIVATE, TS, BODY), TS, BODY.replace(b"delivered", b"bounce"), "does not match"),
        (sign(PRIVATE, TS, BODY), str(int(TS) + 1), BODY, "does not match"),
        (sign(ec.generate_private_key(ec.SECP256R1()), TS, BODY), TS, BODY, "does not match"),
        (base64.b64encode(b"\x30\x02\x00\x00").decode(), TS, BODY, "does not match"),
        (None, TS, BODY, "missing"),
        ("", TS, BODY, "missing"),
        (sign(PRIVATE, TS, BODY), None, BODY, "missing"),
        ("not*base64!", TS, BODY, "not base64"),
        ("QUJD" * 100, TS, BODY, "not a base64 ECDSA signature"),
        (sign(PRIVATE, "1.5e9", BODY), "1.5e9", BODY, "whole seconds"),
        (sign(PRIVATE, "-5", BODY), "-5", BODY, "whole seconds"),
    ],
)
def test_tampered_or_malformed_deliveries_are_refused(
    signature: str | None, timestamp: str | None, body: bytes, reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify(KEY, signature, timestamp, body, NOW)


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(timedelta(minutes=10), None), (timedelta(minutes=10, seconds=1), "more than 10 minutes old"),
     (-timedelta(minutes=10), None), (-timedelta(minutes=10, seconds=1), "more than 10 minutes in the future")],
)
def test_the_replay_window(offset: timedelta, reason: str | None) -> None:
    sent = str(int((NOW - offset).timestamp()))
    signature = sign(PRIVATE, sent, BODY)
    if reason is None:
        verify(KEY, signature, sent, BODY, NOW)
    else:
        with pytest.raises(SignatureError, match=reason):
            verify(KEY, signature, sent, BODY, NOW)


def test_the_window_can_be_narrowed() -> None:
    sent = str(int((NOW - timedelta(seconds=31)).timestamp()))
    with pytest.raises(SignatureError, match="more than 30 seconds old"):
        verify(KEY, sign(PRIVATE, sent, BODY), sent, BODY, NOW, tolerance=timedelta(seconds=30))


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(KEY, sign(PRIVATE, TS, BODY), TS, BODY, NOW.replace(tzinfo=None))


# --- the key -----------------------------------------------------------------------------------------------------

def test_the_key_parses_with_pem_armour_and_line_breaks() -> None:
    text = public_key_text(PRIVATE)
    pem = "-----BEGIN PUBLIC KEY-----\n" + text[:40] + "\n" + text[40:] + "\n-----END PUBLIC KEY-----\n"
    verify(MailEventKey.parse(pem), sign(PRIVATE, TS, BODY), TS, BODY, NOW)
    assert repr(KEY) == "MailEventKey(P-256)"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (public_key_text(rsa.generate_private_key(public_exponent=65537, key_size=2048)), "must be an EC P-256 key"),
        (public_key_text(ec.generate_private_key(ec.SECP384R1())), "must be EC P-256, not secp384r1"),
        ("this is not a key at all!", "not base64"),
        (base64.b64encode(b"sixteen garbage bytes, not DER").decode(), "not a DER public key"),
        ("   ", "empty"),
    ],
)
def test_the_key_parser_refuses_other_keys_and_garbage_without_echoing_them(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        MailEventKey.parse(text)
    assert isinstance(caught.value, VerificationKeyError)
    message = str(caught.value)
    assert not any(text[i:i + 12] in message for i in range(0, max(len(text.strip()) - 12, 0), 4))
    # Nothing chained either: a traceback shows no cryptography error quoting the bytes.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


# --- parsing -----------------------------------------------------------------------------------------------------

def problems_of(body: bytes) -> dict[str, str]:
    with pytest.raises(InvalidPayload) as caught:
        parse_events(body)
    return {p.field: p.type for p in caught.value.problems}


def test_events_are_parsed_without_the_address() -> None:
    body = json.dumps([
        event(),
        event(event="bounce", type="blocked", sg_event_id="ev-2",
              reason="550 5.1.1 <new.hire@example.com>: Recipient address rejected"),
        {"email": "someone@else.example", "timestamp": 1, "event": "open"},
    ]).encode()
    delivered, bounced, foreign = parse_events(body)
    assert delivered == MailEvent(video_uid=UID, kind="delivered", at=NOW, message_id="msg-1.filter0001",
                                  event_id="ev-1", reason=None)
    assert bounced.bounce_type == "blocked"
    assert bounced.reason == "550 5.1.1 <<address>>: Recipient address rejected"
    assert foreign == MailEvent(video_uid=None, kind="open", at=datetime.fromtimestamp(1, UTC), message_id=None,
                                event_id=None, reason=None)
    assert "example" not in repr([delivered, bounced, foreign])


def test_kind_is_lower_case_and_a_digit_string_timestamp_is_accepted() -> None:
    # The Event Webhook reference's reserved-keys example sends "event": "Processed", "timestamp": "123456789".
    [processed] = parse_events(b'[{"event": "Processed", "timestamp": "123456789"}]')
    assert (processed.kind, processed.at) == ("processed", datetime.fromtimestamp(123456789, UTC))


def test_long_reasons_are_bounded() -> None:
    [bounced] = parse_events(json.dumps([event(event="bounce", reason="x" * 5000)]).encode())
    assert bounced.reason is not None and len(bounced.reason) == 300


def test_an_empty_batch_is_no_events() -> None:
    assert parse_events(b"[]") == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", {"body": "json_invalid"}),
        (b"", {"body": "json_invalid"}),
        (b'{"event": "open"}', {"body": "list_type"}),
        (b'[{"event": "open", "timestamp": 1}, 7, "x"]', {"body[1]": "dict_type", "body[2]": "dict_type"}),
    ],
)
def test_a_body_that_is_not_an_array_of_objects(body: bytes, expected: dict[str, str]) -> None:
    assert problems_of(body) == expected


def test_bad_fields_are_named_by_index_and_never_quoted() -> None:
    body = json.dumps([
        event(),
        event(),
        event(timestamp="yesterday", sg_message_id=12),
        event(timestamp=1.5, event=None, reason=["x"]),
        {"email": "secret@example.com"},
        event(timestamp=True, type=3, **{CUSTOM_ARG: "secret@example.com"}),
        event(timestamp=-1, event="   "),
    ]).encode()
    with pytest.raises(InvalidPayload) as caught:
        parse_events(body)
    assert {p.field: p.type for p in caught.value.problems} == {
        "body[2].timestamp": "int_type",
        "body[2].sg_message_id": "string_type",
        "body[3].timestamp": "int_type",
        "body[3].event": "missing",
        "body[3].reason": "string_type",
        "body[4].event": "missing",
        "body[4].timestamp": "missing",
        "body[5].timestamp": "int_type",
        "body[5].type": "string_type",
        f"body[5].{CUSTOM_ARG}": "string_pattern_mismatch",
        "body[6].timestamp": "int_type",
        "body[6].event": "string_type",
    }
    assert all("secret" not in p.message and "yesterday" not in p.message for p in caught.value.problems)


def test_the_number_of_events_is_bounded() -> None:
    body = json.dumps([event()] * 3).encode()
    assert len(parse_events(body, limit=3)) == 3
    with pytest.raises(InvalidPayload) as caught:
        parse_events(body, limit=2)
    [problem] = caught.value.problems
    assert (problem.field, problem.type) == ("body", "too_long")
    assert "at most 2 events per request, got 3" in problem.message


# --- delivery state ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kind", "bounce_type", "state"),
    [
        ("delivered", None, "Delivered"),
        ("bounce", "bounce", "Bounced"),
        ("bounce", "blocked", "Bounced"),
        ("bounce", None, "Bounced"),
        ("dropped", None, "Dropped"),
        ("open", None, "Opened"),
        ("click", None, "Opened"),
        ("Delivered", None, "Delivered"),
        ("processed", None, None),
        ("deferred", None, None),
        ("spamreport", None, None),
        ("unsubscribe", None, None),
        ("group_unsubscribe", None, None),
        ("something_new", None, None),
    ],
)
def test_delivery_state(kind: str, bounce_type: str | None, state: str | None) -> None:
    assert delivery_state(kind, bounce_type) == state


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def mail(kind: str, minutes: int, bounce_type: str | None = None) -> MailEvent:
    return MailEvent(video_uid=UID, kind=kind, at=at(minutes), message_id="m", event_id=f"{kind}{minutes}",
                     reason=None, bounce_type=bounce_type)


def test_fold_applies_events_in_timestamp_order() -> None:
    events = [mail("open", 9), mail("processed", 0), mail("delivered", 2), mail("deferred", 12)]
    assert fold(events, current="Sent") == ("Opened", at(9))


def test_fold_an_asynchronous_bounce_after_delivery() -> None:
    assert fold([mail("bounce", 30, "bounce"), mail("delivered", 1)]) == ("Bounced", at(30))


def test_fold_a_delivery_reported_after_the_open_does_not_go_back() -> None:
    assert fold([mail("delivered", 5), mail("open", 3)], current="Sent") == ("Opened", at(5))


def test_fold_with_nothing_to_report() -> None:
    assert fold([mail("processed", 0), mail("deferred", 1)], current="Sent") == ("Sent", None)
    assert fold([]) == (None, None)


def test_fold_takes_one_video() -> None:
    other = MailEvent(video_uid="another", kind="open", at=NOW, message_id=None, event_id=None, reason=None)
    with pytest.raises(ValueError, match="one video"):
        fold([mail("delivered", 0), other])
