"""When the email is due, and the delivery state's precedence."""

from __future__ import annotations

import datetime as dt

import pytest

from preboarding.api.delivery import DELIVERY_STATES, advance, iso, send_time
from preboarding.api.models import Delivery

pytestmark = pytest.mark.unit

START = dt.date(2027, 1, 11)


def test_days_before_start_at_the_send_time_of_day_in_utc() -> None:
    assert send_time(Delivery(days_before_start=7), START, default_days=None) == dt.datetime(
        2027, 1, 4, 9, 0, tzinfo=dt.UTC)
    assert send_time(Delivery(days_before_start=0), START, default_days=7, time_of_day=dt.time(6, 30)) == \
        dt.datetime(2027, 1, 11, 6, 30, tzinfo=dt.UTC)


def test_the_default_applies_when_the_spec_says_nothing_and_none_means_when_ready() -> None:
    assert send_time(Delivery(), START, default_days=3) == dt.datetime(2027, 1, 8, 9, 0, tzinfo=dt.UTC)
    assert send_time(Delivery(), START, default_days=None) is None


def test_send_at_wins_and_a_naive_time_is_utc() -> None:
    aware = dt.datetime(2027, 1, 2, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert send_time(Delivery(send_at=aware, days_before_start=1), START, default_days=7) == aware
    assert send_time(Delivery(send_at=dt.datetime(2027, 1, 2, 15, 0)), START, default_days=7) == dt.datetime(
        2027, 1, 2, 15, 0, tzinfo=dt.UTC)


def test_the_spec_refuses_a_lead_time_out_of_range() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"daysBeforeStart|days_before_start"):
        Delivery.model_validate({"daysBeforeStart": 400})


@pytest.mark.parametrize(("current", "new", "expected"), [
    (None, "Scheduled", "Scheduled"),
    ("Scheduled", "Sent", "Sent"),
    ("Sent", "Delivered", "Delivered"),
    ("Delivered", "Opened", "Opened"),
    ("Opened", "Delivered", "Opened"),  # a late event never moves it back
    ("Delivered", "Sent", "Delivered"),
    ("Sent", "Bounced", "Bounced"),
    ("Delivered", "Bounced", "Bounced"),
    ("Bounced", "Dropped", "Dropped"),
    ("Opened", "Bounced", "Opened"),  # the new hire watched it: it arrived
    ("Bounced", "Delivered", "Bounced"),
    ("Bounced", "Opened", "Opened"),
    ("Sent", "Sent", "Sent"),
    ("nonsense", "Sent", "Sent"),
])
def test_the_state_moves_forward_only(current: str | None, new: str, expected: str) -> None:
    assert advance(current, new) == expected  # type: ignore[arg-type]
    assert expected in DELIVERY_STATES


def test_iso_is_utc_with_a_z() -> None:
    assert iso(dt.datetime(2027, 1, 4, 10, 0, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == \
        "2027-01-04T09:00:00Z"
