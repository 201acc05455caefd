"""Blocking for identity resolution when a block holds more persons than are scored."""

from __future__ import annotations

import datetime as dt
import uuid
from random import Random

import pytest
from sqlalchemy import Engine

from oberih.db.engine import make_session_factory
from oberih.exchange.matching import typical_errors
from oberih.exchange.messages import Subject
from oberih.exchange.resolution import WHOLE_BLOCK_MAX, Resolver, subject_profile
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person
from tests.factories import new_fact
from tests.integration.exchange.helpers import NOW

BORN = dt.date(1990, 3, 15)
CROWD = ["Андрій", "Богдан", "Василь", "Григорій", "Дмитро", "Євген", "Іван", "Олег"]


def _person(engine: Engine, number: int, given_name: str, birth_date: dt.date) -> uuid.UUID:
    # Ids in a known order: the crowd's sort before the person the record is about.
    person_id = uuid.UUID(int=number)
    identity = {
        "surname": "Ґудзь",
        "given_name": given_name,
        "patronymic": "Остапович",
        "birth_date": birth_date.isoformat(),
        "birth_place": "м. Полтава",
        "sex": "male",
    }
    with make_session_factory(engine)() as session, session.begin():
        create_person(
            session,
            facts=[new_fact(FactKind.identity, identity, source="civil_status")],
            now=NOW - dt.timedelta(days=30),
            person_id=person_id,
        )
    return person_id


@pytest.mark.parametrize("prefetched", [False, True], ids=["one-record", "chunk"])
def test_the_person_born_that_day_is_scored_in_a_block_larger_than_the_limit(
    engine: Engine, prefetched: bool
) -> None:
    # Same surname, born the year before, the same year and the year after: one block.
    for number, given_name in enumerate(CROWD, start=1):
        _person(engine, number, given_name, BORN.replace(year=1989 + number % 3, day=1))
    taras = _person(engine, 2**120, "Тарас", BORN)
    subject = Subject(
        surname="Ґудзь", given_name="Тарас", patronymic="Остапович", birth_date=BORN, sex="male"
    )
    resolver = Resolver(max_candidates=4)
    with make_session_factory(engine)() as session:
        if prefetched:
            resolver.prefetch(session, [subject])
        resolution = resolver.resolve(session, subject)
    assert resolution.outcome == "link"
    assert resolution.person_id == taras


def test_both_paths_take_the_same_candidates_from_a_crowded_block(engine: Engine) -> None:
    for number, given_name in enumerate(CROWD, start=1):
        _person(engine, number, given_name, BORN.replace(year=1989 + number % 3, day=number))
    subject = Subject(surname="Ґудзь", given_name="Тарас", birth_date=BORN)
    taken = []
    for prefetched in (False, True):
        resolver = Resolver(max_candidates=5)
        with make_session_factory(engine)() as session:
            if prefetched:
                resolver.prefetch(session, [subject])
            found = resolver.candidates(session, subject_profile(subject))
        taken.append([person_id for person_id, _profile in found])
    assert taken[0] == taken[1]
    assert len(taken[0]) == 5
    # Nearest by days (so the year of birth first, then a year apart); ids settle ties.
    years = [1989 + person_id.int % 3 for person_id in taken[0]]
    assert years == sorted(years, key=lambda year: abs(year - BORN.year))


@pytest.mark.parametrize("whole_block_max", [0, WHOLE_BLOCK_MAX], ids=["around-the-date", "whole"])
@pytest.mark.parametrize("prefetched", [False, True], ids=["one-record", "chunk"])
@pytest.mark.parametrize(
    "written",
    [dt.date(1990, 12, 3), dt.date(1990, 3, 13), dt.date(1990, 8, 12)],
    ids=["day-and-month-swapped", "a-day-off", "a-digit-mistyped"],
)
def test_the_person_a_slip_in_the_date_hides_is_scored_in_a_crowded_block(
    engine: Engine, prefetched: bool, written: dt.date, whole_block_max: int
) -> None:
    # Born 12 March 1990; the record says otherwise by a clerk's slip. The crowd of the same
    # surname and year, born nearer to the written date by days and first by id, filled the
    # limit: cut by id after the exact day, Taras was never compared.
    born = dt.date(1990, 3, 12)
    for number, given_name in enumerate(CROWD, start=1):
        # 11 to 18 days after the written date: two digits apart, not a slip of it.
        _person(engine, number, given_name, written + dt.timedelta(days=10 + number))
    taras = _person(engine, 2**120, "Тарас", born)
    subject = Subject(
        surname="Ґудзь", given_name="Тарас", patronymic="Остапович", birth_date=written
    )
    resolver = Resolver(max_candidates=4, whole_block_max=whole_block_max)
    with make_session_factory(engine)() as session:
        if prefetched:
            resolver.prefetch(session, [subject])
        found = resolver.candidates(session, subject_profile(subject))
    assert found[0][0] == taras
    assert len(found) == 4


@pytest.mark.parametrize("whole_block_max", [0, WHOLE_BLOCK_MAX], ids=["around-the-date", "whole"])
def test_a_block_is_read_in_part_and_cut_exactly_as_if_read_whole(
    engine: Engine, whole_block_max: int
) -> None:
    # Forty of one surname over three years, and twelve more sharing two days; records
    # written on several dates. Read around the date (a surname common in the register), only the
    # persons on a slip of the date and the nearest each side are read; either way the
    # candidates are those the whole block, ordered nearest first, gives.
    rng = Random(7)
    crowd: dict[uuid.UUID, dt.date] = {}
    for number in range(1, 41):
        day = dt.date(1989, 1, 1) + dt.timedelta(days=rng.randrange(3 * 365))
        crowd[_person(engine, number, CROWD[number % len(CROWD)], day)] = day
    for number in range(41, 53):  # ties: six each on two days eleven days either side of
        day = dt.date(1990, 3, 4) if number % 2 else dt.date(1990, 3, 26)  # 15 March, no slips
        crowd[_person(engine, number, CROWD[number % len(CROWD)], day)] = day
    limit = 5
    for written in (dt.date(1990, 3, 15), dt.date(1990, 1, 3), dt.date(1991, 12, 30)):
        subject = Subject(surname="Ґудзь", given_name="Тарас", birth_date=written)
        whole = sorted(
            (person_id for person_id, day in crowd.items() if abs(day.year - 1990) <= 1),
            key=lambda person_id: _nearness_of(crowd[person_id], person_id, written),
        )[:limit]
        for prefetched in (False, True):
            resolver = Resolver(max_candidates=limit, whole_block_max=whole_block_max)
            with make_session_factory(engine)() as session:
                if prefetched:
                    resolver.prefetch(session, [subject])
                found = resolver.candidates(session, subject_profile(subject))
            assert [person_id for person_id, _profile in found] == whole


def _nearness_of(day: dt.date, person_id: uuid.UUID, born: dt.date) -> tuple[int, int, uuid.UUID]:
    rank = 0 if day == born else 1 if day in typical_errors(born) else 2
    return (rank, abs((day - born).days), person_id)


@pytest.mark.parametrize("max_age", [0.0, 3600.0], ids=["old", "fresh"])
def test_a_chunk_reads_an_old_name_dictionary_again(engine: Engine, max_age: float) -> None:
    """A worker runs for days: names other workers register meanwhile reach its dictionary
    once the dictionary it read is older than its maximum age, at the start of a chunk."""
    resolver = Resolver(dictionary_max_age=max_age)
    with make_session_factory(engine)() as session:
        resolver.prefetch(session, [])
        before = resolver.dictionary(session)
    _person(engine, 1, "Тарас", BORN)  # registered by another worker meanwhile
    with make_session_factory(engine)() as session:
        resolver.prefetch(session, [])
        after = resolver.dictionary(session)
    known = {key for keys in after.counts.values() for key in keys}
    assert (after is before) == (max_age > 0)
    assert bool(known) == (max_age == 0)  # the new names, only in a dictionary read again
