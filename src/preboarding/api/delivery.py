"""When the welcome email goes out, and how the delivery state moves: pure, shared by the operator and the bridge.

The operator renders at once (so a problem shows weeks early) and holds the email until ``send_time``; it
writes ``Scheduled``, ``Sent`` and ``Failed``. The bridge writes what the new hire and the mail provider
report: ``Opened`` from the watch page, ``Delivered``, ``Bounced`` and ``Dropped`` from SendGrid's events.
Both go through ``advance``, so no writer moves the state backwards.
"""

from __future__ import annotations

import datetime as dt
from typing import get_args

from preboarding.api.models import Delivery, DeliveryState

DELIVERY_STATES: tuple[DeliveryState, ...] = get_args(DeliveryState)

# Progress of one email: each state replaces the ones before it. The failures replace any progress short of
# Opened (a new hire who watched the video got it, whatever a late event says).
_RANK: dict[str, int] = {"Scheduled": 0, "Sent": 1, "Delivered": 2, "Bounced": 3, "Dropped": 3, "Failed": 3,
                         "Opened": 4}

# The custom argument the notify stage puts on a SendGrid message; SendGrid repeats it on each of that message's
# events, which is how the bridge finds the video (never by address).
MAIL_VIDEO_ARG = "preboarding_video_uid"

# No new email to the same new hire sooner than this after the last one (a resend, a re-render): a stuck
# button or a loop annotating the video cannot flood an inbox.
MIN_EMAIL_INTERVAL = dt.timedelta(minutes=5)

DEFAULT_DAYS_BEFORE_START = 7
DEFAULT_SEND_TIME = dt.time(9, 0)


def send_time(delivery: Delivery, start_date: dt.date, *, default_days: int | None,
              time_of_day: dt.time = DEFAULT_SEND_TIME) -> dt.datetime | None:
    """When the email is due: ``sendAt``, else ``daysBeforeStart`` (or ``default_days``) before the start date.

    At ``time_of_day`` UTC on that day. None: no lead time is set anywhere, so the email goes when the video
    is ready. A time already past means the same: the start date is closer than the lead time, send now.
    """
    if delivery.send_at is not None:
        at = delivery.send_at
        return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    days = delivery.days_before_start if delivery.days_before_start is not None else default_days
    if days is None:
        return None
    return dt.datetime.combine(start_date - dt.timedelta(days=days), time_of_day, tzinfo=dt.UTC)


def advance(current: str | None, new: DeliveryState) -> DeliveryState:
    """The state after ``new`` was reported for the email in state ``current``; never backwards.

    Scheduled < Sent < Delivered < Opened, and Bounced, Dropped and Failed replace anything short of
    Opened. A state reported twice stays. A new email (a resend) starts again: its writer sets ``Sent``.
    """
    if current is None or current not in _RANK:
        return new
    kept: DeliveryState = next(state for state in DELIVERY_STATES if state == current)
    return new if _RANK[new] > _RANK[kept] or (_RANK[new] == _RANK[kept] == 3) else kept


def parse_iso(value: object) -> dt.datetime | None:
    """A time as status writes it (``iso``, or any RFC 3339 with an offset); None if absent or unreadable."""
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def iso(at: dt.datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, to the second: how status and messages show a time."""
    return at.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
