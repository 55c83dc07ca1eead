"""The watch token: minted by notify, verified by the bridge; rotation, tampering, expiry."""

from __future__ import annotations

import datetime as dt

import pytest

from preboarding.api.watch import (
    ExpiredToken,
    InvalidToken,
    WatchKeyError,
    WatchKeys,
    link_expiry,
    mint,
    verify,
)

pytestmark = pytest.mark.unit

UID = "3f1c2a9e-8b7d-4c6e-9a1b-2c3d4e5f6a7b"
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=40)
OLD = "k1:" + "a" * 40
NEW = "k2:" + "b" * 40


def test_a_minted_token_verifies_to_its_video_and_expiry() -> None:
    keys = WatchKeys.parse(OLD)
    token = mint(keys, UID, LATER)
    claim = verify(keys, token, NOW)
    assert (claim.uid, claim.expires_at) == (UID, LATER)
    assert token.startswith("v1.k1.3f1c2a9e8b7d4c6e9a1b2c3d4e5f6a7b.")
    assert len(token) < 128


def test_the_token_carries_no_employee_data_and_differs_per_key() -> None:
    assert mint(WatchKeys.parse(OLD), UID, LATER) != mint(WatchKeys.parse("k1:" + "c" * 40), UID, LATER)


def test_rotation_signs_with_the_first_key_and_still_verifies_old_links() -> None:
    old_link = mint(WatchKeys.parse(OLD), UID, LATER)
    rotated = WatchKeys.parse(f"{NEW},{OLD}")
    assert verify(rotated, old_link, NOW).uid == UID
    assert mint(rotated, UID, LATER).split(".")[1] == "k2"
    with pytest.raises(InvalidToken, match="unknown key"):  # the old key dropped: its links are revoked
        verify(WatchKeys.parse(NEW), old_link, NOW)


@pytest.mark.parametrize("change", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the mac
    lambda t: t.replace(".3f1c", ".4f1c"),  # another video
    lambda t: ".".join([*t.split(".")[:3], str(int(t.split(".")[3]) + 86400), t.split(".")[4]]),  # longer life
    lambda t: "v2" + t[2:],
    lambda t: t + ".x",
    lambda t: "",
    lambda t: "x" * 500,
])
def test_a_tampered_or_malformed_token_is_invalid(change: object) -> None:
    keys = WatchKeys.parse(OLD)
    token = mint(keys, UID, LATER)
    with pytest.raises(InvalidToken):
        verify(keys, change(token), NOW)  # type: ignore[operator]


def test_an_expired_token_is_told_apart_only_when_genuine() -> None:
    keys = WatchKeys.parse(OLD)
    token = mint(keys, UID, NOW)
    with pytest.raises(ExpiredToken) as expired:
        verify(keys, token, NOW)
    assert expired.value.claim.uid == UID
    forged = token[:-2] + "zz"
    with pytest.raises(InvalidToken):
        verify(keys, forged, NOW + dt.timedelta(days=1))


def test_the_default_link_lives_until_the_end_of_the_thirtieth_day_after_the_start() -> None:
    sent = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)
    assert link_expiry(dt.date(2026, 9, 14), 30, sent) == dt.datetime(2026, 10, 14, 23, 59, 59, tzinfo=dt.UTC)


def test_a_link_sent_after_the_start_still_lives_its_days() -> None:
    """A hire entered after the start date (or a resend) does not get a link that is dead on arrival."""
    assert link_expiry(dt.date(2026, 9, 14), 30, NOW) == NOW + dt.timedelta(days=30)


@pytest.mark.parametrize(("text", "message"), [
    ("", "no watch key"),
    ("k1", "expected <id>:<secret>"),
    ("K1:" + "a" * 40, "expected <id>:<secret>"),
    ("k1:short", "at least 32"),
    (f"{OLD},{OLD}", "listed twice"),
])
def test_bad_key_text_says_what_to_fix_without_quoting_the_secret(text: str, message: str) -> None:
    with pytest.raises(WatchKeyError, match=message) as error:
        WatchKeys.parse(text)
    assert "aaaa" not in str(error.value) and "short" not in str(error.value)


def test_a_naive_expiry_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        mint(WatchKeys.parse(OLD), UID, dt.datetime(2026, 1, 1))
