"""The one date formatter of the script, the slides and the email."""

from __future__ import annotations

import datetime as dt
import locale

import pytest

from preboarding.renderer.dates import NBSP, ordinal, spoken_date, written_date

pytestmark = pytest.mark.unit


def test_spoken_dates_use_ordinals() -> None:
    assert spoken_date(dt.date(2026, 12, 1)) == "Tuesday, December 1st"
    assert spoken_date(dt.date(2026, 12, 12)) == "Saturday, December 12th"
    assert spoken_date(dt.date(2026, 12, 23)) == "Wednesday, December 23rd"
    assert [ordinal(n) for n in (2, 11, 13, 21, 22, 111)] == ["2nd", "11th", "13th", "21st", "22nd", "111th"]


def test_written_dates_are_spelled_out_and_can_be_kept_together() -> None:
    assert written_date(dt.date(2026, 12, 7)) == "Monday, 7 December 2026"
    assert written_date(dt.date(2027, 1, 31)) == "Sunday, 31 January 2027"
    assert written_date(dt.date(2026, 12, 7), keep_together=True) == f"Monday, 7{NBSP}December{NBSP}2026"


def test_the_process_locale_changes_nothing() -> None:
    try:
        previous = locale.setlocale(locale.LC_TIME, "C.UTF-8")
    except locale.Error:
        pytest.skip("no C.UTF-8 locale")
    try:
        assert spoken_date(dt.date(2026, 12, 7)) == "Monday, December 7th"
    finally:
        locale.setlocale(locale.LC_TIME, previous)
