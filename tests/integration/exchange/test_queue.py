"""The record queue: concurrent workers never take the same record (PostgreSQL, SKIP LOCKED),
and a worker that dies mid-record leaves it pending for the next."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oberih.db.engine import make_engine, make_session_factory
from oberih.exchange.models import ExchangeRecord, RecordState
from oberih.exchange.services import (
    Processor,
    batch_report,
    claim_chunk,
    claim_pending,
    receive_batch,
)
from oberih.identifiers import make_rnokpp
from oberih.persons.facts import FactKind
from oberih.persons.models import FactRow, PersonStateRow
from oberih.persons.services import create_person
from tests.factories import new_fact
from tests.integration.exchange.helpers import (
    NOW,
    RNOKPP,
    lines,
    message,
    register_person,
    waits_for_a_lock,
)


def _batch(engine: Engine, count: int):  # type: ignore[no-untyped-def]
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        register_person(session)
        body = lines(
            *(
                message(f"x-{n}", "exit", {"crossed_on": f"2026-10-{n:02d}"}, rnokpp=RNOKPP)
                for n in range(1, count + 1)
            )
        )
        batch = receive_batch(
            session, source="border", body=body, signature=None, ring=None, now=NOW
        )
        return batch.id


@pytest.mark.postgres
def test_two_workers_claim_different_records(postgres_database_url: str) -> None:
    engine = make_engine(postgres_database_url)
    try:
        batch_id = _batch(engine, 3)
        sessions = make_session_factory(engine)
        with sessions() as first, first.begin(), sessions() as second, second.begin():
            one = claim_pending(first, batch_id)
            other = claim_pending(second, batch_id)
            assert one is not None and other is not None
            assert one.position != other.position
    finally:
        engine.dispose()


def test_a_crash_inside_a_record_leaves_it_pending(engine: Engine) -> None:
    batch_id = _batch(engine, 2)
    sessions = make_session_factory(engine)
    processor = Processor(sessions=sessions, clock=lambda: NOW)
    with pytest.raises(RuntimeError), sessions() as session, session.begin():
        record = claim_pending(session, batch_id)
        assert record is not None
        processor.process_record(session, record)
        raise RuntimeError("the worker dies before its commit")
    with sessions() as session:
        assert batch_report(session, batch_id).counts["pending"] == 2
    assert processor.process_pending() == 2
    with sessions() as session:
        report = batch_report(session, batch_id)
        assert report.counts["applied"] == 2
        assert all(r.state == "applied" for r in session.scalars(select(ExchangeRecord)))


def _batches_arriving(engine: Engine, minutes: tuple[int, ...], size: int) -> dict[Any, int]:
    """Batches of ``size`` lines received ``minutes`` after NOW, in that order; their arrival."""
    sessions = make_session_factory(engine)
    arrivals = {}
    for offset in minutes:
        body = lines(
            *(message(f"x-{offset}-{n}", "exit", {"crossed_on": "2026-10-01"}) for n in range(size))
        )
        with sessions() as session, session.begin():
            batch = receive_batch(
                session,
                source="border",
                body=body,
                signature=None,
                ring=None,
                now=NOW + dt.timedelta(minutes=offset),
            )
            arrivals[batch.id] = offset
    return arrivals


def test_batches_are_processed_in_arrival_order(engine: Engine) -> None:
    arrivals = _batches_arriving(engine, (30, 10, 20), size=1)
    with make_session_factory(engine)() as session, session.begin():
        record = claim_pending(session, None)
        assert record is not None and arrivals[record.batch_id] == 10


def test_a_chunk_takes_the_oldest_batch_first_and_lines_in_order(engine: Engine) -> None:
    arrivals = _batches_arriving(engine, (30, 10, 20), size=3)
    with make_session_factory(engine)() as session, session.begin():
        chunk = claim_chunk(session, None, 7)
    taken = [(arrivals[record.batch_id], record.position) for record in chunk]
    assert taken == [(10, 1), (10, 2), (10, 3), (20, 1), (20, 2), (20, 3), (30, 1)]


def test_a_chunk_skips_records_that_have_ended(engine: Engine) -> None:
    arrivals = _batches_arriving(engine, (10, 20), size=2)
    sessions = make_session_factory(engine)
    Processor(sessions=sessions, clock=lambda: NOW).process_pending(limit=3)
    with sessions() as session, session.begin():
        chunk = claim_chunk(session, None, 10)
    assert [(arrivals[r.batch_id], r.position) for r in chunk] == [(20, 2)]


@pytest.mark.postgres
def test_a_second_worker_goes_on_to_the_next_batch(postgres_database_url: str) -> None:
    engine = make_engine(postgres_database_url)
    try:
        arrivals = _batches_arriving(engine, (10, 20), size=3)
        sessions = make_session_factory(engine)
        with sessions() as first, first.begin(), sessions() as second, second.begin():
            held = claim_chunk(first, None, 4)
            taken = claim_chunk(second, None, 4)
        assert [(arrivals[r.batch_id], r.position) for r in held] == [
            (10, 1),
            (10, 2),
            (10, 3),
            (20, 1),
        ]
        assert [(arrivals[r.batch_id], r.position) for r in taken] == [(20, 2), (20, 3)]
    finally:
        engine.dispose()


def test_a_record_the_database_keeps_refusing_is_quarantined(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = _batch(engine, 1)
    processor = Processor(sessions=make_session_factory(engine), clock=lambda: NOW)

    def refused(*_args: object, **_kwargs: object) -> None:
        raise IntegrityError("INSERT ...", {}, Exception("duplicate key"))

    # The database refuses the chunk and then the record alone, every time.
    monkeypatch.setattr(processor, "process_chunk", refused)
    monkeypatch.setattr(processor, "process_record", refused)
    assert processor.process_pending() == 0
    with make_session_factory(engine)() as session:
        [record] = session.scalars(
            select(ExchangeRecord).where(ExchangeRecord.batch_id == batch_id)
        )
        assert record.state == "quarantined" and (record.reason or "").startswith("error:")


def test_a_refused_chunk_is_retried_record_by_record(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = _batch(engine, 3)
    processor = Processor(sessions=make_session_factory(engine), clock=lambda: NOW)
    process_record = processor.process_record

    def refused(*_args: object, **_kwargs: object) -> None:
        raise IntegrityError("INSERT ...", {}, Exception("duplicate key"))

    def refuses_the_second(session: Session, record: ExchangeRecord) -> None:
        if record.position == 2:
            refused()
        process_record(session, record)

    monkeypatch.setattr(processor, "process_chunk", refused)
    monkeypatch.setattr(processor, "process_record", refuses_the_second)
    assert processor.process_pending() == 2
    with make_session_factory(engine)() as session:
        states = {
            record.position: record.state
            for record in session.scalars(
                select(ExchangeRecord).where(ExchangeRecord.batch_id == batch_id)
            )
        }
        assert states == {1: "applied", 2: "quarantined", 3: "applied"}
        assert batch_report(session, batch_id).counts["applied"] == 2


def test_a_chunk_that_lost_a_deadlock_is_taken_again_as_a_chunk(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from psycopg.errors import DeadlockDetected
    from sqlalchemy.exc import OperationalError

    batch_id = _batch(engine, 3)
    processor = Processor(sessions=make_session_factory(engine), clock=lambda: NOW)
    process_chunk = processor.process_chunk
    attempts: list[int] = []

    def loses_once(session: Session, records: list[Any]) -> int:
        attempts.append(len(records))
        if len(attempts) == 1:
            raise OperationalError("UPDATE ...", {}, DeadlockDetected("deadlock detected"))
        return process_chunk(session, records)

    def one_at_a_time(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a deadlock is transient: the chunk is retried whole")

    monkeypatch.setattr(processor, "process_chunk", loses_once)
    monkeypatch.setattr(processor, "process_record", one_at_a_time)
    with caplog.at_level(logging.INFO, logger="oberih.exchange"):
        assert processor.process_pending() == 3
    assert attempts == [3, 3]
    # The operator reads that nothing was lost and what came next, not that a chunk "failed".
    said = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "oberih.exchange"]
    assert (logging.INFO, "chunk of 3 records rolled back (DeadlockDetected): taken again") in said
    with make_session_factory(engine)() as session:
        assert batch_report(session, batch_id).counts["applied"] == 3


def _copy_a_duplicate_key(session: Session) -> None:
    """The same key twice in one COPY: PostgreSQL's own refusal, as psycopg raises it (intake
    sends its COPYs through psycopg itself, whose errors SQLAlchemy never wraps)."""
    raw = session.connection().connection.dbapi_connection
    cursor = raw.cursor()  # type: ignore[union-attr]
    with cursor.copy("COPY audit_tree (id, size, compact_range) FROM STDIN") as copy:
        copy.write_row((1, 0, b""))


@pytest.mark.postgres
def test_a_chunk_refused_by_a_statement_sent_through_the_driver_is_taken_again(
    postgres_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A duplicate key found by a COPY (another worker committed the same fact first) must
    roll the chunk back and take it again, not stop the worker."""
    import psycopg

    engine = make_engine(postgres_database_url)
    try:
        batch_id = _batch(engine, 3)
        processor = Processor(sessions=make_session_factory(engine), clock=lambda: NOW)
        process_chunk = processor.process_chunk
        refusals: list[str] = []

        def copies_a_duplicate_once(session: Session, records: list[Any]) -> int:
            if not refusals:
                try:
                    _copy_a_duplicate_key(session)
                except psycopg.errors.UniqueViolation as refused:
                    refusals.append(type(refused).__name__)
                    raise
            return process_chunk(session, records)

        def one_at_a_time(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("a key committed first by another worker: retried as a chunk")

        monkeypatch.setattr(processor, "process_chunk", copies_a_duplicate_once)
        monkeypatch.setattr(processor, "process_record", one_at_a_time)
        assert processor.process_pending() == 3
        assert refusals == ["UniqueViolation"]
        with make_session_factory(engine)() as session:
            assert batch_report(session, batch_id).counts["applied"] == 3
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_chunk_a_unique_key_refuses_again_is_taken_record_by_record(
    postgres_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused again when taken again, the fault is in the records, not in the timing: they are
    taken one at a time, so that the one at fault is quarantined and the others apply."""
    engine = make_engine(postgres_database_url)
    try:
        batch_id = _batch(engine, 3)
        processor = Processor(sessions=make_session_factory(engine), clock=lambda: NOW)
        attempts: list[int] = []

        def always_refused(session: Session, records: list[Any]) -> int:
            attempts.append(len(records))
            _copy_a_duplicate_key(session)
            raise AssertionError("the COPY above is refused")

        monkeypatch.setattr(processor, "process_chunk", always_refused)
        assert processor.process_pending() == 3
        assert attempts == [3, 3]  # the chunk twice, then its records one at a time
        with make_session_factory(engine)() as session:
            assert batch_report(session, batch_id).counts["applied"] == 3
    finally:
        engine.dispose()


def _two_persons_batch(engine: Engine) -> tuple[Any, uuid.UUID, uuid.UUID]:
    """A batch of three records: two about one person, between them one about another."""
    other_rnokpp = make_rnokpp(dt.date(1985, 6, 1), 8, "male")
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        first = register_person(session)
        second = create_person(
            session,
            facts=[
                new_fact(
                    FactKind.identity,
                    {
                        "surname": "Лук'яненко",
                        "given_name": "Левко",
                        "patronymic": "Григорович",
                        "birth_date": "1985-06-01",
                        "sex": "male",
                    },
                    source="civil_status",
                ),
                new_fact(
                    FactKind.identifier,
                    {"identifier_kind": "rnokpp", "value": other_rnokpp},
                    source="tax",
                ),
            ],
            now=NOW - dt.timedelta(days=400),
        ).person_id
        body = lines(
            message("x-1", "exit", {"crossed_on": "2026-10-01"}, rnokpp=RNOKPP),
            message(
                "x-2",
                "exit",
                {"crossed_on": "2026-10-02"},
                rnokpp=other_rnokpp,
                surname="Лук'яненко",
                given_name="Левко",
                patronymic="Григорович",
                birth_date="1985-06-01",
            ),
            message("x-3", "entry", {"crossed_on": "2026-10-03"}, rnokpp=RNOKPP),
        )
        batch = receive_batch(
            session, source="border", body=body, signature=None, ring=None, now=NOW
        )
        return batch.id, first, second


def _states(engine: Engine, batch_id: Any) -> dict[int, str]:
    with make_session_factory(engine)() as session:
        rows = session.execute(
            select(ExchangeRecord.position, ExchangeRecord.state).where(
                ExchangeRecord.batch_id == batch_id
            )
        )
        return {position: RecordState(state).value for position, state in rows}


@pytest.mark.postgres
def test_a_person_another_worker_holds_is_left_for_later_then_waited_for(
    postgres_database_url: str,
) -> None:
    """A chunk does not wait for a person another transaction holds: their records stay
    pending and the others apply. Taken again, the chunk waits for that person, so a person
    busy elsewhere cannot hold their records back for ever; then they apply, in order."""
    engine = make_engine(postgres_database_url)
    try:
        batch_id, held_person, other_person = _two_persons_batch(engine)
        processor = Processor(sessions=make_session_factory(engine), clock=lambda: NOW)
        worker = threading.Thread(target=processor.process_pending)
        try:
            with make_session_factory(engine)() as holder, holder.begin():
                holder.execute(
                    select(PersonStateRow.person_id)
                    .where(PersonStateRow.person_id == held_person)
                    .with_for_update()
                )
                worker.start()
                deadline = time.monotonic() + 30
                while _states(engine, batch_id)[2] != "applied" and time.monotonic() < deadline:
                    time.sleep(0.05)
                # Taken again, the two records wait for the person: a lock wait, not a loop.
                assert waits_for_a_lock(engine, within=max(0.0, deadline - time.monotonic()))
                assert _states(engine, batch_id) == {1: "pending", 2: "applied", 3: "pending"}
        finally:
            worker.join(timeout=30)
        assert not worker.is_alive()
        assert _states(engine, batch_id) == {1: "applied", 2: "applied", 3: "applied"}
        assert processor.deferred == set()
        with make_session_factory(engine)() as session:
            journal = session.scalars(
                select(FactRow.source_record_id)
                .where(FactRow.person_id == held_person, FactRow.source == "border")
                .order_by(FactRow.seq)
            ).all()
            assert journal == ["x-1", "x-3"]
            assert (
                session.scalar(
                    select(FactRow.source_record_id).where(
                        FactRow.person_id == other_person, FactRow.source == "border"
                    )
                )
                == "x-2"
            )
    finally:
        engine.dispose()
