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


S, T, D, OP, B, X, F = "Scheduled", "Sent", "Delivered", "Opened", "Bounced", "Dropped", "Failed"


@pytest.mark.parametrize(
    ("current", "new", "after"),
    [
        (None, T, T), (None, B, B), (None, OP, OP),
        (S, T, T), (T, D, D), (D, OP, OP), (S, OP, OP),
        (T, S, T), (D, T, D), (OP, D, OP), (OP, T, OP), (D, D, D), (OP, OP, OP),
        (S, B, B), (T, B, B), (D, B, B), (S, X, X), (T, X, X), (D, X, X),
        (OP, B, OP), (OP, X, OP), (OP, F, OP),
        (B, OP, OP), (X, OP, OP), (F, OP, OP),
        (B, D, B), (B, T, B), (X, D, X), (F, D, F), (B, B, B),
        (B, X, X), (X, B, B), (F, B, B), (B, F, F),
        ("SomethingNewer", D, D),
    ],
)
def test_the_state_moves_forward_only(current: str | None, new: str, after: str) -> None:
    """Forward only; the failures replace progress short of Opened, and the latest failure wins."""
    assert advance(current, new) == after  # type: ignore[arg-type]
    assert after in DELIVERY_STATES



def test_iso_is_utc_with_a_z() -> None:
    assert iso(dt.datetime(2027, 1, 4, 10, 0, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == \
        "2027-01-04T09:00:00Z"
