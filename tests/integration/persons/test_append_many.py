"""``append_many`` (feed intake's path): identifier rows in step with the journal's fold.

The identifier table is what lookups by RNOKPP, UNZR or document number read; ``append_many``
writes only the rows that changed when it folds onto the stored state. Whatever path it takes,
the rows must be exactly those of the person's folded journal.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from oberih.db.engine import make_engine, make_session_factory
from oberih.identifiers.rnokpp import make_rnokpp
from oberih.identifiers.unzr import make_unzr
from oberih.persons.batch import append_many
from oberih.persons.facts import FactKind, NewFact
from oberih.persons.models import IdentifierRow
from oberih.persons.services import create_person, get_state, identifier_rows
from tests.factories import identity_payload, new_fact, utc

NOW = utc(2026, 1, 10)


def _identifier(kind: str, value: str, status: str | None = None) -> NewFact:
    payload = {"identifier_kind": kind, "value": value}
    if status is not None:
        payload["status"] = status
    return new_fact(FactKind.identifier, payload, source="demographic")


def _register(session: Session, rnokpp: str, passport: str = "АВ123456") -> uuid.UUID:
    created = create_person(
        session,
        facts=[
            new_fact(FactKind.identity, identity_payload(), source="civil_status"),
            _identifier("rnokpp", rnokpp),
            _identifier("passport_booklet", passport),
        ],
        now=NOW,
    )
    session.commit()
    return created.person_id


def _stored_rows(session: Session, person_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.execute(
        select(IdentifierRow.kind, IdentifierRow.value, IdentifierRow.active, IdentifierRow.fact_id)
        .where(IdentifierRow.person_id == person_id)
        .order_by(IdentifierRow.kind, IdentifierRow.value)
    )
    return [dict(row._mapping) for row in rows]


def _folded_rows(session: Session, person_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = identifier_rows(get_state(session, person_id))
    return sorted(
        ({k: row[k] for k in ("kind", "value", "active", "fact_id")} for row in rows),
        key=lambda row: (row["kind"], row["value"]),
    )


def _append(session: Session, appends: dict[uuid.UUID, list[NewFact]], day: int) -> None:
    outcome = append_many(session, appends, now=NOW + dt.timedelta(days=day))
    session.commit()
    assert outcome.refused == {}
    assert set(outcome.results) == set(appends)


def test_a_new_identifier_is_added_and_the_others_stand(session: Session) -> None:
    person = _register(session, "3294602470")
    before = _stored_rows(session, person)

    _append(session, {person: [_identifier("unzr", make_unzr(dt.date(1990, 1, 1), 1234))]}, day=1)

    after = _stored_rows(session, person)
    assert after == _folded_rows(session, person)
    assert len(after) == 3
    assert all(row in after for row in before)  # the rows that stood are unchanged


def test_an_invalidated_identifier_is_no_longer_active(session: Session) -> None:
    person = _register(session, "3294602470")

    _append(
        session,
        {person: [_identifier("passport_booklet", "АВ123456", status="invalidated")]},
        day=1,
    )

    rows = _stored_rows(session, person)
    assert rows == _folded_rows(session, person)
    passport = next(row for row in rows if row["kind"] == "passport_booklet")
    assert passport["active"] is False


def test_several_persons_in_one_call_each_end_as_their_fold(session: Session) -> None:
    added = _register(session, "3294602470", passport="АА000001")
    invalidated = _register(session, make_rnokpp(dt.date(1991, 2, 3), 120, "male"))
    untouched = _register(
        session, make_rnokpp(dt.date(1992, 4, 5), 340, "female"), passport="АА000002"
    )

    _append(
        session,
        {
            added: [_identifier("passport_booklet", "ВК654321")],
            invalidated: [
                _identifier("passport_booklet", "АВ123456", status="invalidated"),
                _identifier("passport_booklet", "КМ111222"),
            ],
            untouched: [new_fact(FactKind.identity, identity_payload(surname="Мельник"))],
        },
        day=1,
    )

    for person in (added, invalidated, untouched):
        assert _stored_rows(session, person) == _folded_rows(session, person)
    assert len(_stored_rows(session, added)) == 3
    assert len(_stored_rows(session, untouched)) == 2


def test_an_identifier_sent_again_later_keeps_one_row(session: Session) -> None:
    person = _register(session, "3294602470")

    _append(session, {person: [_identifier("passport_booklet", "АВ123456")]}, day=1)
    _append(
        session,
        {person: [_identifier("passport_booklet", "АВ123456", status="invalidated")]},
        day=2,
    )
    _append(session, {person: [_identifier("passport_booklet", "АВ123456")]}, day=3)

    rows = _stored_rows(session, person)
    assert rows == _folded_rows(session, person)
    assert [row["active"] for row in rows if row["kind"] == "passport_booklet"] == [True]


@pytest.mark.postgres
def test_facts_are_written_in_the_order_of_their_source_record_ids(
    postgres_database_url: str,
) -> None:
    # Two intake workers whose chunks hold the same re-sent records (copies of births in two
    # batches register two newborns) meet on the fact's unique (source, record id). Written in
    # person order, their rows took that index in different orders and PostgreSQL broke the
    # deadlock by failing a chunk; in key order the second waits for the first. The heap of a
    # fresh table keeps one COPY's rows in the order they were sent.
    engine = make_engine(postgres_database_url)
    try:
        with make_session_factory(engine)() as session:
            persons = sorted(
                _register(
                    session, make_rnokpp(dt.date(1990, 1, day), 100 + day, "male"), f"АА00000{day}"
                )
                for day in (1, 2, 3)
            )
            appends = {
                person: [
                    new_fact(
                        FactKind.death,
                        {"date_of_death": "2026-01-05"},
                        source="civil_status",
                        source_record_id=record_id,
                    )
                ]
                for person, record_id in zip(persons, ("cs-3", "cs-2", "cs-1"), strict=True)
            }
            _append(session, appends, day=1)
            written = session.scalars(
                text(
                    "SELECT source_record_id FROM fact WHERE source_record_id LIKE 'cs-_' ORDER BY ctid"
                )
            ).all()
    finally:
        engine.dispose()
    assert written == ["cs-1", "cs-2", "cs-3"]
