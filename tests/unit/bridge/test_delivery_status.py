"""The bridge's changes to status.delivery: a view, and the mail provider's events (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from preboarding.bridge.delivery_status import counted_view, with_mail_events
from preboarding.bridge.mail_events import MailEvent

pytestmark = pytest.mark.unit

NOW = dt.datetime(2027, 1, 4, 9, 30, tzinfo=dt.UTC)


def mail(kind: str, minutes: int) -> MailEvent:
    return MailEvent(video_uid="uid-1", kind=kind, at=NOW + dt.timedelta(minutes=minutes), message_id="m",
                     event_id=f"{kind}{minutes}", reason=None)


def test_a_view_opens_the_email_counts_and_keeps_the_first_time_and_the_operators_fields() -> None:
    sent = {"state": "Sent", "sentAt": "2027-01-04T09:00:00Z", "messageId": "<m@x>", "sends": 1}
    once = counted_view(sent, NOW)
    assert once == sent | {"state": "Opened", "views": 1, "firstViewedAt": "2027-01-04T09:30:00Z"}
    twice = counted_view(once, NOW + dt.timedelta(days=1))
    assert (twice["views"], twice["firstViewedAt"]) == (2, "2027-01-04T09:30:00Z")
    assert counted_view({"views": "junk"}, NOW)["views"] == 1


def test_mail_events_advance_the_state_and_keep_the_latest_event_time() -> None:
    sent = {"state": "Sent", "views": 0}
    delivered = with_mail_events(sent, [mail("processed", 0), mail("delivered", 2)])
    assert delivered == {"state": "Delivered", "views": 0, "lastEventAt": "2027-01-04T09:32:00Z"}
    # An older event arriving later moves neither the state back nor the time.
    assert with_mail_events(delivered, [mail("delivered", 1)]) == delivered
    assert with_mail_events({"state": "Opened"}, [mail("bounce", 5)])["state"] == "Opened"


def test_events_that_report_nothing_change_nothing() -> None:
    sent = {"state": "Sent"}
    assert with_mail_events(sent, [mail("processed", 0), mail("deferred", 3)]) is sent
