"""Unmatched records and the retries after births (``Processor._retry_unmatched``): an officer's
rejection of an identity review holds on every retry, and a record that names no person, which
a birth cannot place, is not retried."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from oberih.db.engine import make_session_factory
from oberih.exchange.models import ExchangeRecord, LinkDecision
from oberih.exchange.services import (
    NotACandidate,
    Processor,
    correct_record,
    decide_review,
    open_reviews,
    quarantined,
    receive_batch,
)
from oberih.identifiers import make_document_number, make_rnokpp
from oberih.persons.facts import FactKind
from oberih.persons.models import IdentifierRow
from oberih.persons.services import create_person
from tests.factories import new_fact
from tests.integration.exchange.helpers import NOW, RNOKPP, lines, message, register_person

# A crossing under a misspelled surname, without patronymic or sex: register_person's man
# scores between the thresholds, an officer decides.
UNCERTAIN = {"surname": "Гудзь", "patronymic": None, "sex": None}
BOOKLET = make_document_number("passport_booklet", 4242)
NAMELESS = {"surname": None, "given_name": None, "patronymic": None, "birth_date": None,
            "sex": None}  # fmt: skip


def _ticking() -> Callable[[], dt.datetime]:
    ticks = (NOW + dt.timedelta(seconds=n) for n in itertools.count())
    return lambda: next(ticks)


def _send(engine: Engine, source: str, body: bytes) -> uuid.UUID:
    with make_session_factory(engine)() as session, session.begin():
        batch = receive_batch(session, source=source, body=body, signature=None, ring=None, now=NOW)
        return batch.id


CHILDREN = {"b-1": ("Кривоніс", "Орест"), "b-2": ("Стецюк", "Ярема")}


def _birth(engine: Engine, processor: Processor, record_id: str) -> int:
    """A child nobody else's records are about is born (one of ``CHILDREN``): a registration,
    so unmatched records are tried again. Returns how many records the processor ended."""
    surname, given_name = CHILDREN[record_id]
    child = {
        "surname": surname,
        "given_name": given_name,
        "birth_date": "2026-10-30",
        "sex": "male",
    }
    _send(engine, "civil_status", lines(message(record_id, "birth", child, **child)))
    return processor.process_pending()


def _person(session: Session, rnokpp: str | None = None, **identity: str) -> uuid.UUID:
    facts = [new_fact(FactKind.identity, identity, source="civil_status")]
    if rnokpp:
        facts.append(new_fact(FactKind.identifier, {"identifier_kind": "rnokpp", "value": rnokpp}))
    return create_person(session, facts=facts, now=NOW).person_id


def _rejected(engine: Engine, processor: Processor, **subject: str | None) -> uuid.UUID:
    """register_person's man, an uncertain crossing that waits for an officer, and the officer
    who finds he is not the one who crossed; returns the man's id."""
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
    crossing = message("x-1", "exit", {"crossed_on": "2026-11-01"}, **(UNCERTAIN | subject))
    _send(engine, "border", lines(crossing))
    processor.process_pending()
    with sessions() as session, session.begin():
        [review] = open_reviews(session)
        assert [c["person_id"] for c in review.candidates] == [str(person_id)]
        decide_review(processor, session, review_id=review.id, person_id=None, actor="officer-1")
    return person_id


def _crossing(session: Session) -> ExchangeRecord:
    record = session.scalar(select(ExchangeRecord).where(ExchangeRecord.source_record_id == "x-1"))
    assert record is not None
    return record


def test_a_rejected_review_is_not_put_before_an_officer_again_after_births(
    engine: Engine,
) -> None:
    processor = Processor(sessions=make_session_factory(engine), clock=_ticking())
    rejected = _rejected(engine, processor)
    with make_session_factory(engine)() as session:
        after_rejection = _crossing(session).reason or ""
    assert after_rejection.startswith("no-matching-person: an officer found")
    assert "tried again after later births, without them" in after_rejection

    for birth in ("b-1", "b-2"):  # every birth retries it: never the same review again
        assert _birth(engine, processor, birth) == 2  # the birth, and the crossing retried
        with make_session_factory(engine)() as session:
            assert open_reviews(session) == []
            record = _crossing(session)
            assert record.state == "quarantined"
            assert record.reason == after_rejection

    with make_session_factory(engine)() as session:
        decisions = list(
            session.scalars(
                select(LinkDecision)
                .where(LinkDecision.batch_id == record.batch_id)
                .order_by(LinkDecision.id)
            )
        )
    # The officer's rejection stays recorded with its actor; each retry says whom it left out.
    assert [(d.outcome, d.actor) for d in decisions][:2] == [
        ("review", "system:exchange:border"),
        ("reject", "officer-1"),
    ]
    retries = [d for d in decisions[2:] if d.method == "probabilistic"]
    assert len(retries) == 2
    assert all(d.outcome == "no_link" for d in retries)
    assert all(d.fields["rejected_by_officer"] == [str(rejected)] for d in retries)


def test_a_new_candidate_is_reviewed_without_the_one_an_officer_rejected(engine: Engine) -> None:
    processor = Processor(sessions=make_session_factory(engine), clock=_ticking())
    rejected = _rejected(engine, processor)
    with make_session_factory(engine)() as session, session.begin():
        # Another Тарас Гудзь, a day apart: between the thresholds too.
        other = _person(session, surname="Гудзь", given_name="Тарас", patronymic="Петрович",
                        birth_date="1990-03-16", sex="male")  # fmt: skip

    _birth(engine, processor, "b-1")

    with make_session_factory(engine)() as session:
        [review] = open_reviews(session)
        assert [c["person_id"] for c in review.candidates] == [str(other)]
        record = _crossing(session)
        assert record.state == "review"
        assert "not shown again" in (record.reason or "")
    # Nor can the officer link the rejected man through the new review.
    with pytest.raises(NotACandidate), make_session_factory(engine)() as session:
        decide_review(processor, session, review_id=review.id, person_id=rejected, actor="o-2")
    with make_session_factory(engine)() as session, session.begin():
        decide_review(processor, session, review_id=review.id, person_id=None, actor="officer-2")
    _birth(engine, processor, "b-2")
    with make_session_factory(engine)() as session:
        assert open_reviews(session) == []
        assert _crossing(session).state == "quarantined"
        retry = session.scalars(select(LinkDecision).order_by(LinkDecision.id.desc())).first()
        assert retry is not None
        assert retry.fields["rejected_by_officer"] == sorted([str(rejected), str(other)])


def test_a_person_above_the_link_threshold_is_linked_once_the_rejected_one_stands_aside(
    engine: Engine,
) -> None:
    processor = Processor(sessions=make_session_factory(engine), clock=_ticking())
    _rejected(engine, processor)
    with make_session_factory(engine)() as session, session.begin():
        # Who crossed, registered since: he scores above the link threshold, but less than the
        # margin above the rejected man, who would have made it a review for the officer again.
        crossed = _person(session, surname="Гудзь", given_name="Тарас",
                          birth_date="1990-03-15", sex="male")  # fmt: skip

    _birth(engine, processor, "b-1")

    with make_session_factory(engine)() as session:
        assert open_reviews(session) == []
        record = _crossing(session)
        assert (record.state, record.person_id) == ("applied", crossed)


def test_an_identifier_known_since_links_the_record_to_its_holder(engine: Engine) -> None:
    # Passes without the rejection's hold too: it shows the hold does not stand in the way.
    carried = make_rnokpp(dt.date(1990, 3, 15), 99, "male")
    processor = Processor(sessions=make_session_factory(engine), clock=_ticking())
    _rejected(engine, processor, rnokpp=carried)
    with make_session_factory(engine)() as session, session.begin():
        holder = _person(session, rnokpp=carried, surname="Гудзь", given_name="Тарас",
                         birth_date="1990-03-15", sex="male")  # fmt: skip

    _birth(engine, processor, "b-1")

    with make_session_factory(engine)() as session:
        record = _crossing(session)
        assert (record.state, record.person_id) == ("applied", holder)


def test_a_replay_of_the_record_as_it_is_keeps_the_rejection(engine: Engine) -> None:
    processor = Processor(sessions=make_session_factory(engine), clock=_ticking())
    _rejected(engine, processor)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        record = _crossing(session)
        replayed = correct_record(
            session, batch_id=record.batch_id, position=record.position, corrected=None
        )
        processor.process_record(session, replayed)
    with sessions() as session:
        assert open_reviews(session) == []
        assert (_crossing(session).reason or "").startswith("no-matching-person: an officer")


def test_an_invalidation_of_an_unknown_document_naming_no_person_is_not_retried(
    engine: Engine,
) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        holder = register_person(session)
    processor = Processor(sessions=sessions, clock=_ticking())
    document = {"document_kind": "passport_booklet", "number": BOOKLET, "on": "2026-11-02"}
    invalidated = message(
        "g-1", "document_invalidated", document, **NAMELESS,
        document_kind="passport_booklet", document_number=BOOKLET,
    )  # fmt: skip
    _send(engine, "demographic", lines(invalidated))
    assert processor.process_pending() == 1
    with sessions() as session:
        [record] = quarantined(session)
        reason, processed_at = record.reason or "", record.processed_at
    assert reason.startswith("unknown-identifier: the register holds no passport booklet")
    assert "not retried after births" in reason

    assert _birth(engine, processor, "b-1") == 1  # the birth alone: a birth brings no document
    with sessions() as session:
        [record] = quarantined(session)
        assert (record.reason, record.processed_at) == (reason, processed_at)

    # The booklet's issuance comes late; the operator replays the invalidation, which finds it.
    issued = message("g-0", "document_issued", document | {"on": "2010-05-05"}, rnokpp=RNOKPP)
    _send(engine, "demographic", lines(issued))
    processor.process_pending()
    with sessions() as session, session.begin():
        replayed = correct_record(
            session, batch_id=record.batch_id, position=record.position, corrected=None
        )
        processor.process_record(session, replayed)
    with sessions() as session:
        record = session.get_one(ExchangeRecord, (record.batch_id, record.position))
        assert (record.state, record.person_id) == ("applied", holder)
        booklet = session.scalar(select(IdentifierRow).where(IdentifierRow.value == BOOKLET))
        assert booklet is not None and (booklet.person_id, booklet.active) == (holder, False)


def test_an_invalidation_naming_only_its_document_finds_the_holder(engine: Engine) -> None:
    # The subject quotes nothing: the document the message invalidates names its holder.
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        holder = register_person(session)
    processor = Processor(sessions=sessions, clock=_ticking())
    document = {"document_kind": "passport_booklet", "number": BOOKLET}
    issued = message("g-0", "document_issued", document | {"on": "2010-05-05"}, rnokpp=RNOKPP)
    invalidated = message(
        "g-1", "document_invalidated", document | {"on": "2026-11-02"}, **NAMELESS
    )
    _send(engine, "demographic", lines(issued, invalidated))
    processor.process_pending()
    with sessions() as session:
        states = {
            r.source_record_id: (r.state, r.person_id)
            for r in session.scalars(select(ExchangeRecord))
        }
        assert states == {"g-0": ("applied", holder), "g-1": ("applied", holder)}


def test_a_record_naming_no_person_by_an_unknown_identifier_says_so(engine: Engine) -> None:
    processor = Processor(sessions=make_session_factory(engine), clock=_ticking())
    death = message("d-1", "death", {"date_of_death": "2026-10-20"}, **NAMELESS, rnokpp=RNOKPP)
    nothing = message("d-2", "death", {"date_of_death": "2026-10-21"}, **NAMELESS)
    _send(engine, "civil_status", lines(death, nothing))
    processor.process_pending()
    with make_session_factory(engine)() as session:
        reasons = {r.source_record_id: r.reason or "" for r in quarantined(session)}
    assert reasons["d-1"].startswith("unknown-identifier: no person holds the RNOKPP")
    assert reasons["d-2"].startswith("no-identity: the record names no person")
    assert _birth(engine, processor, "b-1") == 1  # neither retried
