"""A synthetic population shared by the population tests (generated once per session)."""

from __future__ import annotations

import datetime as dt

import pytest

from oberih.persons.state import PersonState, fold
from oberih.population import GeneratedPerson, generate_population

REFERENCE_DATE = dt.date(2025, 12, 1)
SAMPLE_SIZE = 12_000


@pytest.fixture(scope="session")
def people() -> list[GeneratedPerson]:
    return list(
        generate_population(persons=SAMPLE_SIZE, seed=20251201, reference_date=REFERENCE_DATE)
    )


@pytest.fixture(scope="session")
def states(people: list[GeneratedPerson]) -> dict[object, PersonState]:
    return {person.person_id: fold(person.person_id, person.facts) for person in people}
