"""How the video, the slides and the email say a date: one module, two styles, English, no locale.

The process locale never changes the output (``%A``/``%B`` would): the words come from these tables.
"""

from __future__ import annotations

import datetime as dt

NBSP = "\u00a0"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``11th``, ``23rd``."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def spoken_date(day: dt.date) -> str:
    """``Monday, December 7th``: how a host says a date (the script, and the email that quotes it)."""
    return f"{WEEKDAYS[day.weekday()]}, {MONTHS[day.month - 1]} {ordinal(day.day)}"


def written_date(day: dt.date, *, keep_together: bool = False) -> str:
    """``Monday, 7 December 2026``: a date on a slide.

    ``keep_together`` joins "7 December 2026" with no-break spaces, so wrapping may break the line
    after the weekday but never inside the date.
    """
    rest = f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]}, {rest.replace(' ', NBSP) if keep_together else rest}"
