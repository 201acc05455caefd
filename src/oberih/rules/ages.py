"""Ages and anniversaries, with the profile's rule for birthdays on 29 February."""

from __future__ import annotations

import datetime as dt

ONE_DAY = dt.timedelta(days=1)
FEBRUARY_28 = "february_28"
MARCH_01 = "march_01"


def anniversary(birth: dt.date, years: int, leap_day: str = FEBRUARY_28) -> dt.date:
    """The day a person born on ``birth`` reaches ``years`` of age.

    A person born on 29 February reaches an age in a common year on 28 February or on 1 March,
    as the profile says (``age.leap_day_birthday``).
    """
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year
        if leap_day == MARCH_01:
            return dt.date(birth.year + years, 3, 1)
        return dt.date(birth.year + years, 2, 28)


def age_on(birth: dt.date, on: dt.date, leap_day: str = FEBRUARY_28) -> int:
    """Completed years of age on ``on`` (the birthday itself counts as reached)."""
    years = on.year - birth.year
    if anniversary(birth, years, leap_day) > on:
        years -= 1
    return years


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th day")
