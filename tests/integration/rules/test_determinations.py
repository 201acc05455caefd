"""Determinations of stored persons on SQLite and PostgreSQL: evaluate, store, recompute."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from oberih.db.engine import make_session_factory
from oberih.persons.bulk import load_people
from oberih.persons.facts import FactKind
from oberih.persons.services import PersonNotFound, append_facts
from oberih.population import generate_population
from oberih.rules.cli import app
from oberih.rules.models import DeterminationRow
from oberih.rules.services import (
    determination_history,
    evaluate_person,
    latest_determination,
    recompute,
    store_determination,
)
from tests.factories import new_fact, utc
from tests.integration.rules.helpers import father_of_three

DAY = dt.date(2026, 11, 1)
NOW = utc(2026, 11, 1)


def _father(session: Session) -> uuid.UUID:
    return father_of_three(session, now=NOW)


def test_a_stored_person_is_evaluated_from_their_journal(session: Session) -> None:
    person_id = _father(session)
    determination = evaluate_person(session, person_id, DAY)
    assert determination.person_id == str(person_id)
    assert determination.category.value == "liable"
    assert [d.ground for d in determination.deferrals] == ["three_children"]
    sources = {f.source for step in determination.explanation for f in step.facts}
    assert {"demographic", "officer", "civil_status"} <= sources
    with pytest.raises(PersonNotFound):
        evaluate_person(session, uuid.uuid4(), DAY)


def test_history_grows_only_when_the_answer_changes(session: Session) -> None:
    person_id = _father(session)
    first = store_determination(session, evaluate_person(session, person_id, DAY), now=NOW)
    session.commit()
    assert first is not None
    later = evaluate_person(session, person_id, DAY + dt.timedelta(days=3))
    assert store_determination(session, later, now=NOW) is None  # same answer
    append_facts(
        session,
        person_id=person_id,
        facts=[
            new_fact(
                FactKind.death,
                {"date_of_death": "2026-11-02"},
                source="civil_status",
                valid_from=dt.date(2026, 11, 2),
            )
        ],
        now=NOW,
    )
    session.commit()
    changed = evaluate_person(session, person_id, dt.date(2026, 11, 3))
    assert store_determination(session, changed, now=NOW) is not None
    session.commit()
    history = determination_history(session, person_id)
    assert [row.category for row in history] == ["liable", "removed"]
    latest = latest_determination(session, person_id)
    assert latest is not None and latest.result["removal_reason"] == "death"
    assert latest.profile_version.startswith("ua@")


@pytest.fixture
def population(engine: Engine) -> Engine:
    people = generate_population(persons=400, seed=7, reference_date=DAY)
    load_people(engine, people)
    return engine


def _hashes(engine: Engine) -> dict[uuid.UUID, str]:
    with engine.connect() as connection:
        rows = connection.execute(select(DeterminationRow.person_id, DeterminationRow.result_hash))
        return {person_id: result_hash for person_id, result_hash in rows}


def test_recompute_writes_every_person_then_nothing(population: Engine) -> None:
    done: list[int] = []
    report = recompute(population, at=DAY, progress=done.append, batch_size=150)
    assert report.failed == 0
    assert report.persons == report.written == sum(done) >= 400
    again = recompute(population, at=DAY, batch_size=150)
    assert (again.written, again.unchanged) == (0, report.persons)


def test_recompute_agrees_with_evaluating_each_person_from_their_journal(
    population: Engine,
) -> None:
    recompute(population, at=DAY)
    stored = _hashes(population)
    with make_session_factory(population)() as session:
        for person_id, fingerprint in stored.items():
            assert evaluate_person(session, person_id, DAY).fingerprint() == fingerprint


def test_recompute_only_persons_changed_since(population: Engine) -> None:
    recompute(population, at=DAY)
    with make_session_factory(population)() as session:
        person_id = session.scalars(select(DeterminationRow.person_id).limit(1)).one()
        append_facts(
            session,
            person_id=person_id,
            facts=[
                new_fact(
                    FactKind.death,
                    {"date_of_death": "2026-10-30"},
                    source="civil_status",
                    valid_from=dt.date(2026, 10, 30),
                )
            ],
            now=utc(2026, 11, 2),
        )
        session.commit()
    report = recompute(population, at=DAY, changed_since=utc(2026, 11, 1, 23))
    assert (report.persons, report.written) == (1, 1)
    with population.connect() as connection:
        rows = connection.scalar(
            select(func.count()).where(DeterminationRow.person_id == person_id)
        )
    assert rows == 2


@pytest.mark.postgres
def test_two_workers_give_the_same_determinations(postgres_database_url: str) -> None:
    from oberih.db.engine import make_engine

    engine = make_engine(postgres_database_url)  # a database of its own: workers connect to it
    try:
        load_people(engine, generate_population(persons=400, seed=7, reference_date=DAY))
        report = recompute(engine, at=DAY, workers=2, batch_size=100)
        assert report.workers == 2 and report.written == report.persons
        parallel = _hashes(engine)
        with engine.begin() as connection:
            connection.execute(DeterminationRow.__table__.delete())
        recompute(engine, at=DAY, workers=1)
        assert _hashes(engine) == parallel
    finally:
        engine.dispose()


def test_the_recompute_command_prints_its_report(population: Engine) -> None:
    url = population.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["recompute", "--database-url", url, "--on", "2026-11-01"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["persons"] == report["written"] >= 400
