"""The watch link's token: a capability the notify stage mints and the bridge's watch page verifies.

``v1.<key id>.<video uid>.<expiry>.<mac>``: the resource's uid (32 hex digits, never employee data), the
Unix second after which the link is dead, and an HMAC-SHA256 over the rest with a key from a Secret
(``WatchKeys``). Rotation: the first key signs, every listed key verifies, so a new key is added in
front and the old one dropped once its links have expired; dropping a key revokes every link it signed.

Pure: no clock, no I/O. Both components parse the same key text (``PREBOARDING_WATCH_KEYS``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

TOKEN_VERSION = "v1"

MIN_KEY_LENGTH = 32
_DOMAIN = b"preboarding-watch."
_KEY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,15}$")
_UID = re.compile(r"^[0-9a-f]{32}$")
_EXPIRY = re.compile(r"^[0-9]{1,11}$")  # up to the year 5138: always a valid datetime
_MAC = re.compile(r"^[A-Za-z0-9_-]{43}$")
MAX_TOKEN_LENGTH = 128


class WatchKeyError(ValueError):
    """The key text is unusable; the message says how to fix it (it never quotes a key)."""


class InvalidToken(Exception):
    """Not a token any current key signed: unknown, tampered, malformed, or its key was rotated out."""


class ExpiredToken(Exception):
    """A genuine token whose validity has ended."""

    def __init__(self, claim: WatchClaim) -> None:
        super().__init__("the watch link has expired")
        self.claim = claim


@dataclass(frozen=True)
class WatchKeys:
    """Signing keys by id, in order: the first signs, all verify."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, text: str) -> WatchKeys:
        """``id:secret[,id:secret...]``, e.g. ``2026-12:...,2026-06:...``; secrets of at least 32 characters."""
        keys: list[tuple[str, bytes]] = []
        for position, item in enumerate(part.strip() for part in text.split(",") if part.strip()):
            key_id, sep, secret = item.partition(":")
            if not sep or not _KEY_ID.match(key_id):
                raise WatchKeyError(f"watch key {position + 1}: expected <id>:<secret> with an id of 1-16 "
                                    "lowercase letters, digits or '-'")
            if len(secret) < MIN_KEY_LENGTH:
                raise WatchKeyError(f"watch key {key_id!r}: the secret needs at least {MIN_KEY_LENGTH} characters "
                                    "(e.g. `openssl rand -hex 32`)")
            if any(existing == key_id for existing, _ in keys):
                raise WatchKeyError(f"watch key {key_id!r} is listed twice")
            keys.append((key_id, secret.encode()))
        if not keys:
            raise WatchKeyError("no watch key: set at least one <id>:<secret>")
        return cls(tuple(keys))

    @property
    def signing_key_id(self) -> str:
        return self.keys[0][0]

    def key(self, key_id: str) -> bytes | None:
        return next((secret for existing, secret in self.keys if existing == key_id), None)


@dataclass(frozen=True)
class WatchClaim:
    """What a verified token says: which video, until when."""

    uid: str
    expires_at: dt.datetime


def compact_uid(uid: str) -> str:
    """A Kubernetes uid (a UUID, with or without dashes) as the token's 32 lowercase hex digits."""
    compact = uid.replace("-", "").lower()
    if not _UID.match(compact):
        raise ValueError("a video uid is a UUID")
    return compact


def link_expiry(start_date: dt.date, valid_days: int, sent_at: dt.datetime) -> dt.datetime:
    """When a watch link sent at ``sent_at`` ends: the end of the ``valid_days``-th day after the start date
    (UTC), but never sooner than ``valid_days`` after sending (a hire entered late still gets a live link)."""
    end = dt.datetime.combine(start_date + dt.timedelta(days=valid_days + 1), dt.time(), dt.UTC)
    return max(end - dt.timedelta(seconds=1), sent_at + dt.timedelta(days=valid_days))


def mint(keys: WatchKeys, uid: str, expires_at: dt.datetime) -> str:
    """A token for the video ``uid`` valid until ``expires_at`` (timezone-aware), signed with the first key."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    body = f"{TOKEN_VERSION}.{keys.signing_key_id}.{compact_uid(uid)}.{int(expires_at.timestamp())}"
    return f"{body}.{_mac(keys.keys[0][1], body)}"


def verify(keys: WatchKeys, token: str, now: dt.datetime) -> WatchClaim:
    """The claim of a genuine, unexpired token. ``InvalidToken`` or ``ExpiredToken`` otherwise.

    The signature is checked before the expiry is read, so an expired answer only ever goes to a
    token a key of ours signed: a guessed token learns nothing.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("too long")
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != TOKEN_VERSION:
        raise InvalidToken("malformed")
    _, key_id, uid, expiry, mac = parts
    if not (_KEY_ID.match(key_id) and _UID.match(uid) and _EXPIRY.match(expiry) and _MAC.match(mac)):
        raise InvalidToken("malformed")
    secret = keys.key(key_id)
    if secret is None:
        raise InvalidToken("unknown key")
    if not hmac.compare_digest(_mac(secret, token.rpartition(".")[0]), mac):
        raise InvalidToken("bad signature")
    claim = WatchClaim(uid=_dashed(uid), expires_at=dt.datetime.fromtimestamp(int(expiry), dt.UTC))
    if now >= claim.expires_at:
        raise ExpiredToken(claim)
    return claim


def _mac(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, _DOMAIN + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _dashed(compact: str) -> str:
    return f"{compact[:8]}-{compact[8:12]}-{compact[12:16]}-{compact[16:20]}-{compact[20:]}"
