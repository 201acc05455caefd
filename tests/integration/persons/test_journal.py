"""Appending facts: projection in step, idempotent re-sends, lost updates, append-only journal."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from oberih.persons.facts import FactKind, InvalidFact
from oberih.persons.projection import projection_row
from oberih.persons.services import (
    ConflictingResend,
    IdentifierTaken,
    StaleVersion,
    append_facts,
    create_person,
    find_person_by_identifier,
    get_projection,
    get_state,
    projection_as_row,
    rebuild_projections,
)
from tests.factories import address_payload, identity_payload, new_fact, utc

NOW = utc(2026, 1, 10)


def _register(session: Session, rnokpp: str = "3294602470", **identity: str):  # type: ignore[no-untyped-def]
    return create_person(
        session,
        facts=[
            new_fact(FactKind.identity, identity_payload(**identity), source="civil_status"),
            new_fact(
                FactKind.identifier,
                {"identifier_kind": "rnokpp", "value": rnokpp},
                source="tax",
            ),
            new_fact(FactKind.address, address_payload("Lviv"), valid_from=dt.date(2020, 1, 1)),
        ],
        now=NOW,
    )


def test_appending_keeps_the_projection_equal_to_the_fold(session: Session) -> None:
    created = _register(session)
    append_facts(
        session,
        person_id=created.person_id,
        facts=[
            new_fact(
                FactKind.address, address_payload("Kyiv", "UA80"), valid_from=dt.date(2025, 1, 1)
            )
        ],
        now=utc(2026, 1, 11),
        expected_version=3,
    )
    session.commit()
    stored = projection_as_row(get_projection(session, created.person_id))
    folded = projection_row(get_state(session, created.person_id))
    assert stored == folded
    assert stored["region"] == "UA80"
    assert stored["version"] == 4
    assert find_person_by_identifier(session, "rnokpp", "3294602470") == created.person_id


def test_resending_the_same_record_changes_nothing(session: Session) -> None:
    created = _register(session)
    resend = new_fact(
        FactKind.contact, {"phone": "+380671234567"}, source="citizen", source_record_id="c-1"
    )
    first = append_facts(session, person_id=created.person_id, facts=[resend], now=NOW)
    again = append_facts(session, person_id=created.person_id, facts=[resend], now=utc(2026, 2, 1))
    assert len(first.appended) == 1
    assert again.appended == [] and len(again.duplicates) == 1
    assert again.version == first.version


def test_a_resend_with_the_version_read_before_the_first_send_is_a_duplicate(
    session: Session,
) -> None:
    created = _register(session)
    resend = new_fact(
        FactKind.contact, {"phone": "+380671234567"}, source="citizen", source_record_id="c-3"
    )
    first = append_facts(
        session, person_id=created.person_id, facts=[resend], now=NOW, expected_version=3
    )
    again = append_facts(
        session, person_id=created.person_id, facts=[resend], now=NOW, expected_version=3
    )
    assert [f.id for f in again.duplicates] == [f.id for f in first.appended]
    assert again.appended == [] and again.version == first.version == 4
    # Anything new in the same command is still held to the version.
    with pytest.raises(StaleVersion):
        append_facts(
            session,
            person_id=created.person_id,
            facts=[resend, new_fact(FactKind.contact, {"email": "a@example.org"})],
            now=NOW,
            expected_version=3,
        )


def test_same_record_id_with_other_content_is_a_conflict(session: Session) -> None:
    created = _register(session)
    append_facts(
        session,
        person_id=created.person_id,
        facts=[
            new_fact(
                FactKind.contact,
                {"phone": "+380671234567"},
                source="citizen",
                source_record_id="c-2",
            )
        ],
        now=NOW,
    )
    with pytest.raises(ConflictingResend):
        append_facts(
            session,
            person_id=created.person_id,
            facts=[
                new_fact(
                    FactKind.contact,
                    {"phone": "+380670000000"},
                    source="citizen",
                    source_record_id="c-2",
                )
            ],
            now=NOW,
        )


def test_a_stale_version_is_refused(session: Session) -> None:
    created = _register(session)
    with pytest.raises(StaleVersion) as caught:
        append_facts(
            session,
            person_id=created.person_id,
            facts=[new_fact(FactKind.contact, {"email": "a@example.org"})],
            now=NOW,
            expected_version=2,
        )
    assert caught.value.actual == 3


def test_an_active_identifier_belongs_to_one_person(session: Session) -> None:
    _register(session, rnokpp="3294602470")
    with pytest.raises(IdentifierTaken):
        _register(session, rnokpp="3294602470", surname="Інший")


def test_invalid_payload_names_the_field_and_reason(session: Session) -> None:
    created = _register(session)
    with pytest.raises(InvalidFact) as caught:
        append_facts(
            session,
            person_id=created.person_id,
            facts=[new_fact(FactKind.contact, {"phone": "not a phone"})],
            now=NOW,
        )
    assert caught.value.errors[0][0] == "payload.phone"


def test_rebuild_reproduces_the_projection_exactly(engine: Engine, session: Session) -> None:
    first = _register(session, rnokpp="3294602470")
    _register(session, rnokpp="3122900911", surname="Мельник", given_name="Ігор")
    session.commit()
    before = projection_as_row(get_projection(session, first.person_id))
    report = rebuild_projections(session)
    session.commit()
    assert (report.persons, report.changed) == (2, 0)
    assert projection_as_row(get_projection(session, first.person_id)) == before
    # A damaged projection is repaired from the journal.
    with engine.begin() as connection:
        connection.execute(text("UPDATE person_state SET surname = 'X'"))
    session.expire_all()
    assert rebuild_projections(session).changed == 2
    session.commit()
    assert projection_as_row(get_projection(session, first.person_id)) == before


@pytest.mark.parametrize("statement", ["UPDATE fact SET actor = 'intruder'", "DELETE FROM fact"])
def test_the_journal_refuses_updates_and_deletes(
    engine: Engine, session: Session, statement: str
) -> None:
    _register(session)
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
