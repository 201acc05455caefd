"""Determinations refreshed after intake appends facts, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oberih.persons.batch import append_many
from oberih.persons.facts import FactKind, NewFact
from oberih.persons.models import FactRow
from oberih.rules.models import DeterminationRow
from oberih.rules.services import refresh_person, refresh_persons
from tests.factories import new_fact, utc
from tests.integration.rules.helpers import father_of_three

NOW = utc(2026, 11, 1)
# The eldest of three children turns 18 on 2027-03-01: the same facts, evaluated after that
# day, give another answer.
LATER = utc(2027, 4, 1)


def _father(session: Session) -> uuid.UUID:
    return father_of_three(session, now=NOW)


def _determinations(session: Session, person_id: uuid.UUID) -> int:
    query = select(func.count()).where(DeterminationRow.person_id == person_id)
    return int(session.scalar(query) or 0)


def _append_and_refresh(
    session: Session,
    person_id: uuid.UUID,
    fact: NewFact,
    *,
    told: bool = True,
) -> None:
    batch = append_many(session, {person_id: [fact]}, now=LATER)
    appended = {p: result.appended for p, result in batch.results.items()} if told else None
    refresh_persons(session, batch.states, now=LATER, appended=appended)
    session.commit()


def _contact(record_id: str) -> NewFact:
    return new_fact(
        FactKind.contact, {"phone": "+380671112233"}, source="citizen", source_record_id=record_id
    )


def test_facts_the_rules_do_not_read_keep_the_determination(session: Session) -> None:
    kept, evaluated = _father(session), _father(session)
    for person_id in (kept, evaluated):
        refresh_person(session, person_id, now=NOW)
    session.commit()

    _append_and_refresh(session, kept, _contact("c-1"))
    # Evaluated anyway, the same person with the same new fact gets a new answer (time passed).
    _append_and_refresh(session, evaluated, _contact("c-2"), told=False)
    assert _determinations(session, kept) == 1
    assert _determinations(session, evaluated) == 2

    # A fact the rules read is evaluated, and the answer of its day is stored.
    employment = new_fact(
        FactKind.employment,
        {"employer_code": "12345678", "position": "інженер"},
        source="tax",
        valid_from=dt.date(2027, 3, 15),
    )
    _append_and_refresh(session, kept, employment)
    assert _determinations(session, kept) == 2


def test_a_person_without_a_determination_is_evaluated_whatever_the_fact(
    session: Session,
) -> None:
    person_id = _father(session)
    assert _determinations(session, person_id) == 0
    _append_and_refresh(session, person_id, _contact("c-1"))
    assert _determinations(session, person_id) == 1


def test_a_correction_counts_as_read(session: Session) -> None:
    kept = _father(session)
    refresh_person(session, kept, now=NOW)
    session.commit()
    contact = _contact("c-1")
    _append_and_refresh(session, kept, contact)
    assert _determinations(session, kept) == 1
    fact_id = session.scalar(
        select(FactRow.id).where(FactRow.person_id == kept, FactRow.source_record_id == "c-1")
    )
    correction = new_fact(
        FactKind.contact,
        {"phone": "+380671112244"},
        source="citizen",
        source_record_id="c-2",
        supersedes_id=fact_id,
    )
    _append_and_refresh(session, kept, correction)
    assert _determinations(session, kept) == 2
