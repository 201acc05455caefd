"""A name change changes the names only: the register keeps the person's birth data, birth
place and citizenship, whatever the civil status register's subject carries (both engines, in
a chunk and one record at a time; bitemporal history keeps the old names)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from sqlalchemy import Engine, select

from oberih.db.engine import make_session_factory
from oberih.exchange.models import ExchangeRecord
from oberih.exchange.services import Processor, receive_batch
from oberih.persons.facts import FactKind
from oberih.persons.services import append_facts, create_person, get_state
from tests.factories import new_fact
from tests.integration.exchange.helpers import (
    BIRTH,
    IDENTITY,
    NOW,
    RNOKPP,
    lines,
    message,
    process_batch,
    register_person,
)

NEW_NAMES = {"surname": "Шевчук", "given_name": "Тарас", "effective_on": "2026-10-01"}


def _process(engine: Engine, body: bytes, *, one_record: bool = False) -> None:
    """Receive and process a batch: in chunks, or each record on the one-record path (an
    officer's decision, the fallback of a refused chunk)."""
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        batch = receive_batch(
            session, source="civil_status", body=body, signature=None, ring=None, now=NOW
        )
        batch_id = batch.id
    ticks = (NOW + dt.timedelta(seconds=n) for n in itertools.count())
    processor = Processor(sessions=sessions, clock=lambda: next(ticks))
    process_batch(processor, batch_id, one_record=one_record)


def _records(engine: Engine) -> dict[str, ExchangeRecord]:
    with make_session_factory(engine)() as session:
        return {r.source_record_id or "": r for r in session.scalars(select(ExchangeRecord))}


def _foreigner(engine: Engine) -> uuid.UUID:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
        identity = IDENTITY | {"citizenship": "POL"}
        fact = new_fact(FactKind.identity, identity, source="officer", valid_from=BIRTH)
        append_facts(session, person_id=person_id, facts=[fact], now=NOW - dt.timedelta(days=300))
    return person_id


@pytest.mark.parametrize(
    "subject",
    [
        {"birth_date": None, "sex": None},  # the register sent names and the RNOKPP only
        {"birth_place": None},
        {"birth_place": "м. Київ"},  # another spelling of the place: not the register's
    ],
    ids=["no-birth-data", "no-birth-place", "other-birth-place"],
)
@pytest.mark.parametrize("one_record", [False, True], ids=["chunk", "one-record"])
def test_a_name_change_keeps_every_other_identity_field(
    engine: Engine, subject: dict[str, str | None], one_record: bool
) -> None:
    person_id = _foreigner(engine)
    change = message("n-1", "name_change", NEW_NAMES, rnokpp=RNOKPP, **subject)
    _process(engine, lines(change), one_record=one_record)
    assert _records(engine)["n-1"].state == "applied"
    with make_session_factory(engine)() as session:
        identity = get_state(session, person_id).identity
        assert identity is not None
        assert identity.data == {
            "surname": "Шевчук",
            "given_name": "Тарас",
            "birth_date": BIRTH.isoformat(),
            "birth_place": "м. Полтава",
            "sex": "male",
            "citizenship": "POL",  # a foreigner does not become liable by a name change
        }


def test_a_name_change_of_a_person_born_in_the_same_chunk_keeps_the_birth(
    engine: Engine,
) -> None:
    born = {"surname": "Кривоніс", "given_name": "Орест", "birth_date": "2026-10-30",
            "sex": "male", "birth_place": "м. Тернопіль", "citizenship": "UKR"}  # fmt: skip
    subject = {"surname": "Кривоніс", "given_name": "Орест", "birth_date": "2026-10-30"}
    birth = message("b-1", "birth", born, **subject, patronymic=None, sex="male")
    change = message(
        "n-1", "name_change", NEW_NAMES | {"effective_on": "2026-11-05"},
        **subject, patronymic=None, sex=None,
    )  # fmt: skip
    _process(engine, lines(birth, change))
    records = _records(engine)
    assert {r.state for r in records.values()} == {"applied"}
    with make_session_factory(engine)() as session:
        identity = get_state(session, records["b-1"].person_id).identity  # type: ignore[arg-type]
        assert identity is not None
        assert identity.data["surname"] == "Шевчук"
        assert identity.data["birth_place"] == "м. Тернопіль"
        assert identity.data["sex"] == "male"


def test_before_the_name_change_the_register_knew_the_old_names(engine: Engine) -> None:
    person_id = _foreigner(engine)
    _process(engine, lines(message("n-1", "name_change", NEW_NAMES, rnokpp=RNOKPP)))
    with make_session_factory(engine)() as session:
        then = get_state(session, person_id, known_at=NOW - dt.timedelta(seconds=1))
        assert then.identity is not None and then.identity.data["surname"] == "Ґудзь"
        before = get_state(session, person_id, valid_at=dt.date(2026, 9, 30))
        assert before.identity is not None and before.identity.data["surname"] == "Ґудзь"
        now = get_state(session, person_id)
        assert now.identity is not None and now.identity.data["surname"] == "Шевчук"


def test_a_name_change_of_a_person_without_an_identity_says_so(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        identifier = {"identifier_kind": "rnokpp", "value": RNOKPP}
        fact = new_fact(FactKind.identifier, identifier, source="tax")
        create_person(session, facts=[fact], now=NOW - dt.timedelta(days=1))
    change = message("n-1", "name_change", NEW_NAMES, rnokpp=RNOKPP, birth_date=None, sex=None)
    _process(engine, lines(change))
    record = _records(engine)["n-1"]
    assert record.state == "quarantined"
    assert record.reason == "invalid-fact: identity: a name change of a person without an identity"
