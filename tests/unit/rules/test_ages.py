"""Ages, anniversaries and the 29 February rule."""

from __future__ import annotations

import datetime as dt

from oberih.rules.ages import MARCH_01, add_months, age_on, anniversary

LEAPLING = dt.date(2000, 2, 29)


def test_a_leapling_reaches_an_age_on_28_february_in_a_common_year() -> None:
    assert anniversary(LEAPLING, 25) == dt.date(2025, 2, 28)
    assert anniversary(LEAPLING, 24) == dt.date(2024, 2, 29)
    assert age_on(LEAPLING, dt.date(2025, 2, 27)) == 24
    assert age_on(LEAPLING, dt.date(2025, 2, 28)) == 25


def test_or_on_1_march_where_the_profile_says_so() -> None:
    assert anniversary(LEAPLING, 25, MARCH_01) == dt.date(2025, 3, 1)
    assert age_on(LEAPLING, dt.date(2025, 2, 28), MARCH_01) == 24


def test_the_birthday_itself_counts() -> None:
    birth = dt.date(1990, 6, 15)
    assert age_on(birth, dt.date(2025, 6, 14)) == 34
    assert age_on(birth, dt.date(2025, 6, 15)) == 35


def test_add_months_keeps_the_day_or_takes_the_month_end() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 5, 18), 12) == dt.date(2025, 5, 18)
    assert add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
