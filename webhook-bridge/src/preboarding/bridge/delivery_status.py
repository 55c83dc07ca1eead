"""What the bridge writes into a video's ``status.delivery``: the watch page's views and the mail provider's events.

The operator writes the email's own fields (Scheduled, Sent, sentAt, messageId); the bridge reads the delivery,
changes it with a pure function (``counted_view``, ``with_mail_events``) and writes it back guarded by the
resourceVersion it read, so neither a concurrent view nor the operator's write is lost: a conflict reads again.
States only move forward (``preboarding.api.delivery.advance``), so a replayed event changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from preboarding.api.delivery import advance, iso, parse_iso
from preboarding.bridge.mail_events import MailEvent, fold
from preboarding.bridge.repository import Conflict, NotFound, VideoRepository

WRITE_ATTEMPTS = 3

Change = Callable[[dict[str, Any]], dict[str, Any]]


def counted_view(delivery: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """One more view: the first view's time is kept, the count goes up, the email is Opened."""
    out = dict(delivery)
    views = out.get("views")
    out["views"] = (views if isinstance(views, int) and views >= 0 else 0) + 1
    out.setdefault("firstViewedAt", iso(now))
    out["state"] = advance(out.get("state"), "Opened")
    return out


def with_mail_events(delivery: dict[str, Any], events: Iterable[MailEvent]) -> dict[str, Any]:
    """The delivery after the mail provider's events about it (one video's); unchanged if they report nothing."""
    state, last_at = fold(events, delivery.get("state"))
    if last_at is None:
        return delivery
    out = dict(delivery, state=state)
    previous = parse_iso(out.get("lastEventAt"))
    if previous is None or last_at > previous:
        out["lastEventAt"] = iso(last_at)
    return out


async def update_delivery(repository: VideoRepository, video: dict[str, Any], change: Change) -> bool:
    """Write ``change(status.delivery)`` back, guarded by the resourceVersion read; False if the video is gone.

    A conflict reads the video again and re-applies ``change``; after ``WRITE_ATTEMPTS`` conflicts in a row it
    raises ``Conflict``. A video deleted meanwhile, or replaced by another of the same name, is left alone
    (False). Other ``RepositoryError``s (the apiserver away) propagate: the caller decides what they mean.
    """
    name = video["metadata"]["name"]
    for _ in range(WRITE_ATTEMPTS):
        current = dict(((video.get("status") or {}).get("delivery")) or {})
        changed = change(current)
        if changed == current:
            return True
        ops = [{"op": "replace", "path": "/metadata/resourceVersion", "value": video["metadata"]["resourceVersion"]},
               {"op": "add", "path": "/status/delivery", "value": changed}]
        try:
            await repository.patch_status(name, ops)
            return True
        except Conflict:
            fresh = await repository.get(name)
            if fresh is None or fresh["metadata"].get("uid") != video["metadata"].get("uid"):
                return False
            video = fresh
        except NotFound:
            return False
    raise Conflict(f"status.delivery of {name} changed {WRITE_ATTEMPTS} times while it was being written")
