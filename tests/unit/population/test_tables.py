"""Weighted tables, offices, employers: the building blocks of the population."""

from __future__ import annotations

import re
from collections import Counter
from random import Random

import pytest

from oberih.population import recruitment_offices
from oberih.population.economy import edrpou_check_digit, make_employers
from oberih.population.places import region_codes, region_table
from oberih.population.tables import FastRandom, WeightedTable


def test_draws_follow_the_weights() -> None:
    table = WeightedTable([("a", 1.0), ("never", 0.0), ("b", 3.0)])
    rng = Random(1)
    counts = Counter(table.draw(rng) for _ in range(20_000))
    assert counts["never"] == 0
    assert 2.7 < counts["b"] / counts["a"] < 3.3
    assert table.share("b") == pytest.approx(0.75)
    sampler = table.sampler(rng)
    assert {sampler() for _ in range(100)} == {"a", "b"}


@pytest.mark.parametrize("pairs", [[], [("a", -1.0)], [("a", 0.0)]])
def test_bad_tables_are_refused(pairs: list[tuple[str, float]]) -> None:
    with pytest.raises(ValueError):
        WeightedTable(pairs)


def test_fast_random_stays_in_range_and_is_seeded() -> None:
    one, two = FastRandom(5), FastRandom(5)
    draws = [one.randint(3, 7) for _ in range(2_000)]
    assert set(draws) == {3, 4, 5, 6, 7}
    assert draws == [two.randint(3, 7) for _ in range(2_000)]
    assert {one.randrange(4) for _ in range(500)} == {0, 1, 2, 3}
    assert {one.choice("xy") for _ in range(100)} == {"x", "y"}


def test_region_codes_are_katotth_first_level() -> None:
    codes = region_codes()
    assert len(codes) == 27
    assert {"UA01", "UA05", "UA46", "UA71", "UA80", "UA85"} <= set(codes)


def test_offices_have_unique_codes_and_ukrainian_names() -> None:
    offices = recruitment_offices()
    codes = [office.code for office in offices]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"TCC-UA\d{2}-\d{2}", code) for code in codes)
    assert all("ТЦК та СП" in office.name for office in offices)
    regional = [office for office in offices if office.raion is None]
    assert len(regional) == 27
    assert {office.region for office in offices} == set(region_codes())


def test_edrpou_check_digits() -> None:
    # Published examples: 14360506 and 00032129.
    assert edrpou_check_digit("1436050") == 6
    assert edrpou_check_digit("0003212") == 9


def test_employers_have_valid_unique_codes() -> None:
    employers = make_employers(Random(3), region_table())
    codes = [e.code for table in employers.values() for e in table.items]
    assert len(codes) == len(set(codes))
    assert all(len(code) == 8 and int(code[7]) == edrpou_check_digit(code[:7]) for code in codes)
    critical = [e for table in employers.values() for e in table.items if e.critical]
    assert 0.05 < len(critical) / len(codes) < 0.5
