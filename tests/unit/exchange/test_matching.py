"""The Fellegi-Sunter scorer: the total alone ranks candidates exactly as the full score."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oberih.exchange.matching import (
    TYPICAL_DATE_ERRORS,
    NameFrequencies,
    Profile,
    birth_date_level,
    score,
    score_total,
    typical_errors,
)

# Spellings that fall in every name level against each other: the same name, its KMU-55 and
# Russian-style romanisations, a typo, a different name, names that fit both name slots.
SURNAMES = ["Шевченко", "Shevchenko", "Шевчекно", "Ковальчук", "Kovalchuk", "Коваль", "Олена"]
GIVEN_NAMES = ["Олена", "Olena", "Елена", "Yelena", "Оксана", "Іван", "Ivan", "Шевченко"]
PATRONYMICS = ["Іванівна", "Ivanivna", "Ивановна", "Петрівна", "Petrivna"]
PLACES = ["Київ", "Київ, Україна", "Kyiv", "Львів", "Lviv, Україна"]
DATES = [
    dt.date(1990, 3, 4),
    dt.date(1990, 4, 3),  # day and month swapped
    dt.date(1990, 3, 5),  # one day off
    dt.date(1991, 3, 4),  # one digit
    dt.date(1990, 11, 20),  # same year
    dt.date(1975, 1, 1),
]


def _maybe(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(values)


profiles = st.builds(
    Profile,
    surname=_maybe(SURNAMES),
    given_name=_maybe(GIVEN_NAMES),
    patronymic=_maybe(PATRONYMICS),
    birth_date=st.none() | st.sampled_from(DATES),
    sex=st.none() | st.sampled_from(["M", "F"]),
    birth_place=_maybe(PLACES),
)
frequencies = st.builds(
    NameFrequencies,
    counts=st.fixed_dictionaries(
        {
            "surname": st.dictionaries(st.sampled_from(["шевченко", "коваль"]), st.integers(1, 9)),
            "given": st.dictionaries(st.sampled_from(["олена", "іван"]), st.integers(1, 900)),
        }
    ),
    total=st.integers(1, 100_000),
)


@settings(max_examples=400, deadline=None)
@given(record=profiles, stored=profiles, frequencies=frequencies)
def test_the_total_alone_equals_the_full_score(
    record: Profile, stored: Profile, frequencies: NameFrequencies
) -> None:
    assert score_total(record, stored, frequencies) == score(record, stored, frequencies).total


def test_swapped_names_are_scored_as_the_full_score_scores_them() -> None:
    stored = Profile("Шевченко", "Олена", "Іванівна", dt.date(1990, 3, 4), "F", "Київ")
    swapped = Profile("Олена", "Шевченко", "Іванівна", dt.date(1990, 3, 4), "F", "Київ")
    full = score(swapped, stored, NameFrequencies())
    assert full.fields["name_order"] == "swapped"
    assert score_total(swapped, stored, NameFrequencies()) == full.total
    # Straight names score more than swapped ones, by the penalty and more.
    assert score_total(stored, stored, NameFrequencies()) > full.total


def test_swapped_names_a_little_better_than_straight_ones_keep_the_straight_total() -> None:
    # Swapped, the names agree a little better (two transliterations against an exact surname
    # and a close given name), by less than the penalty: the straight total stands.
    record, stored = Profile("Олена", "Елена"), Profile("Олена", "Olena")
    full = score(record, stored, NameFrequencies())
    assert "name_order" not in full.fields
    assert score_total(record, stored, NameFrequencies()) == full.total


@given(
    born=st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2099, 12, 31)),
    apart=st.integers(min_value=-400, max_value=400),
)
def test_typical_errors_are_exactly_the_dates_of_the_typical_levels(
    born: dt.date, apart: int
) -> None:
    # Blocking looks for these dates first: the set must be what the scores call a slip.
    other = born + dt.timedelta(days=apart)
    expected = birth_date_level(born, other) in TYPICAL_DATE_ERRORS
    assert (other in typical_errors(born)) == expected


@pytest.mark.parametrize(
    ("born", "slips"),
    [
        (dt.date(1990, 3, 12), [dt.date(1990, 12, 3), dt.date(1990, 3, 11), dt.date(1990, 8, 12)]),
        (dt.date(1999, 12, 31), [dt.date(2000, 1, 1), dt.date(1998, 12, 31)]),
    ],
)
def test_a_swap_a_day_off_and_a_mistyped_digit_are_typical(
    born: dt.date, slips: list[dt.date]
) -> None:
    assert set(slips) <= typical_errors(born)
    assert born not in typical_errors(born)
