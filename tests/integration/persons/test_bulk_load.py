"""Bulk load: what COPY / batched INSERT writes is exactly what the online path would write."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from oberih.persons.bulk import load_people
from oberih.persons.models import FactRow, NameKeyRow, PersonStateRow
from oberih.persons.projection import projection_row
from oberih.persons.services import (
    get_projection,
    get_state,
    projection_as_row,
    rebuild_projections,
)
from oberih.population import generate_population

REFERENCE = dt.date(2026, 11, 1)


def test_loaded_population_equals_the_fold_of_its_journal(engine: Engine, session: Session) -> None:
    people = list(generate_population(persons=300, seed=5, reference_date=REFERENCE))
    report = load_people(engine, people, batch_size=64)
    assert report.persons == 300
    assert report.facts == sum(len(p.facts) for p in people)
    assert session.scalar(select(func.count()).select_from(FactRow)) == report.facts
    sample = people[17]
    stored = projection_as_row(get_projection(session, sample.person_id))
    assert stored == projection_row(get_state(session, sample.person_id))
    assert rebuild_projections(session).changed == 0


def test_name_dictionary_counts_every_loaded_name(engine: Engine, session: Session) -> None:
    load_people(engine, generate_population(persons=200, seed=9, reference_date=REFERENCE))
    surnames = session.scalar(
        select(func.sum(NameKeyRow.frequency)).where(NameKeyRow.part == "surname")
    )
    persons = session.scalar(select(func.count()).select_from(PersonStateRow))
    assert surnames == persons == 200
