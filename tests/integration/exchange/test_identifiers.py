"""Identity resolution by identifiers at intake (both engines): what a record whose identifiers
disagree, or are not what they say, ends as."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

from sqlalchemy import Engine, select

from oberih.db.engine import make_session_factory
from oberih.exchange.models import ExchangeRecord, MatchReview
from oberih.exchange.services import Processor, receive_batch
from oberih.identifiers import make_rnokpp, make_unzr
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person, get_state
from tests.factories import new_fact
from tests.integration.exchange.helpers import NOW, RNOKPP, lines, message, register_person

OTHER_BIRTH = dt.date(1985, 7, 1)
UNZR = make_unzr(OTHER_BIRTH, 5)
DEATH = {"date_of_death": "2026-10-20"}


def _other_person(engine: Engine) -> uuid.UUID:
    """Another person, who holds a UNZR."""
    identity = {"surname": "Лисенко", "given_name": "Іван", "birth_date": OTHER_BIRTH.isoformat(),
                "sex": "male"}  # fmt: skip
    with make_session_factory(engine)() as session, session.begin():
        return create_person(
            session,
            facts=[
                new_fact(FactKind.identity, identity, source="civil_status"),
                new_fact(FactKind.identifier, {"identifier_kind": "unzr", "value": UNZR}),
            ],
            now=NOW - dt.timedelta(days=300),
        ).person_id


def _process(engine: Engine, source: str, *documents: dict[str, Any]) -> Processor:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        body = lines(*documents)
        receive_batch(session, source=source, body=body, signature=None, ring=None, now=NOW)
    ticks = (NOW + dt.timedelta(seconds=n) for n in itertools.count())
    processor = Processor(sessions=sessions, clock=lambda: next(ticks))
    processor.process_pending()
    return processor


def _records(engine: Engine) -> dict[str, ExchangeRecord]:
    with make_session_factory(engine)() as session:
        return {r.source_record_id or "": r for r in session.scalars(select(ExchangeRecord))}


def _no_names(**identifiers: str) -> dict[str, Any]:
    return {"surname": None, "given_name": None, "patronymic": None, "birth_date": None,
            "sex": None} | identifiers  # fmt: skip


def test_identifiers_of_two_persons_without_names_are_a_conflict_not_a_missing_person(
    engine: Engine,
) -> None:
    with make_session_factory(engine)() as session, session.begin():
        register_person(session)
    _other_person(engine)
    death = message("d-1", "death", DEATH, **_no_names(rnokpp=RNOKPP, unzr=UNZR))
    processor = _process(engine, "civil_status", death)
    record = _records(engine)["d-1"]
    assert record.state == "quarantined"
    # By kind, never by value.
    assert record.reason == "identifier-conflict: rnokpp, unzr name different persons"
    assert RNOKPP not in (record.reason or "") and UNZR not in (record.reason or "")

    # Not retried after a birth: no new person resolves a conflict between two others.
    born = {"surname": "Кривоніс", "given_name": "Орест", "birth_date": "2026-10-30",
            "sex": "male"}  # fmt: skip
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        body = lines(message("b-1", "birth", born, **born))
        receive_batch(session, source="civil_status", body=body, signature=None, ring=None,
                      now=NOW + dt.timedelta(hours=1))  # fmt: skip
    processor.process_pending()
    assert processor.process_pending() == 0
    assert _records(engine)["d-1"].processed_at == record.processed_at


def test_identifiers_of_two_persons_with_names_go_to_review_naming_the_conflict(
    engine: Engine,
) -> None:
    with make_session_factory(engine)() as session, session.begin():
        first = register_person(session)
    second = _other_person(engine)
    _process(engine, "civil_status", message("d-1", "death", DEATH, rnokpp=RNOKPP, unzr=UNZR))
    record = _records(engine)["d-1"]
    assert record.state == "review"
    assert record.reason == (
        "identity uncertain: rnokpp, unzr name different persons; waiting for an officer"
    )
    with make_session_factory(engine)() as session:
        [review] = session.scalars(select(MatchReview))
        assert {c["person_id"] for c in review.candidates} >= {str(first), str(second)}


def test_a_birth_whose_identifiers_name_two_persons_registers_nobody(engine: Engine) -> None:
    with make_session_factory(engine)() as session, session.begin():
        register_person(session)
    _other_person(engine)
    born = {"surname": "Кривоніс", "given_name": "Орест", "birth_date": "2026-10-30",
            "sex": "male"}  # fmt: skip
    birth = message("b-1", "birth", born, **_no_names(rnokpp=RNOKPP, unzr=UNZR))
    _process(engine, "civil_status", birth)
    record = _records(engine)["b-1"]
    assert record.state == "quarantined"
    assert (record.reason or "").startswith("identifier-conflict:")


def test_a_namesake_with_another_rnokpp_is_not_linked_by_names(engine: Engine) -> None:
    # Same names and birth date, but a valid RNOKPP that is not the person's: namesakes born
    # the same day exist in a national register, and an RNOKPP is one person's for life. The
    # death must not be linked to the person automatically.
    with make_session_factory(engine)() as session, session.begin():
        person_id = register_person(session)
    namesake = make_rnokpp(dt.date(1990, 3, 15), 99, "male")
    _process(engine, "civil_status", message("d-1", "death", DEATH, rnokpp=namesake))
    record = _records(engine)["d-1"]
    assert record.state == "review"
    with make_session_factory(engine)() as session:
        assert get_state(session, person_id).date_of_death is None
        [review] = session.scalars(select(MatchReview))
        assert review.candidates[0]["person_id"] == str(person_id)
