"""The group commit of read events (``AuditWriter``) on real databases: shared transactions,
durable on return, sequenced and verifiable like any inbox row, and failures that say so."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Sequence

from sqlalchemy import Engine, func, select, text

from oberih.audit.events import AuditEvent, event_from_columns
from oberih.audit.models import AuditInboxRow
from oberih.audit.services import (
    queue_events,
    queue_events_through_driver,
    sign_checkpoint_now,
)
from oberih.audit.signing import AuditSigner
from oberih.audit.verification import verify_log
from oberih.audit.writer import AuditUnavailable, AuditWriter
from oberih.db.engine import is_postgres, make_engine, make_session_factory
from tests.audit_support import audit_leaves
from tests.integration.audit.conftest import ORIGIN, moment
from tests.unit.audit.factories import audit_event


class GatedWriter(AuditWriter):
    """A writer whose first write waits until ``gate`` is set: it is then busy with a first
    batch while further requests arrive."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, clock=lambda: moment(0))
        self.gate = threading.Event()
        self.started = 0

    def _write(self, events: Sequence[AuditEvent]) -> None:
        self.started += 1
        if self.started == 1:
            assert self.gate.wait(timeout=10)
        super()._write(events)


def _writer(engine: Engine) -> AuditWriter:
    return AuditWriter(engine, clock=lambda: moment(0))


def _inbox(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditInboxRow.txid, AuditInboxRow.actor).order_by(AuditInboxRow.id)
        )
        return [(row.txid, row.actor) for row in rows]


def test_requests_arriving_during_a_write_share_the_next_transaction(
    engine: Engine, signer: AuditSigner
) -> None:
    writer = GatedWriter(engine)

    async def requests() -> None:
        first = asyncio.create_task(writer.record([audit_event(0)]))
        await asyncio.sleep(0.05)  # the writer now waits in its first batch
        later = [asyncio.create_task(writer.record([audit_event(n)])) for n in range(1, 6)]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in (first, *later))  # nobody released early
        writer.gate.set()
        await asyncio.gather(first, *later)

    asyncio.run(requests())
    # Every event is in the inbox when record() returns: two transactions, not six.
    inbox = _inbox(engine)
    assert sorted(actor for _, actor in inbox) == [f"tcc_officer:officer-{n}" for n in range(6)]
    assert writer.batches_written == 2
    if is_postgres(engine):
        assert len({txid for txid, _ in inbox[1:]}) == 1
        assert inbox[0][0] != inbox[1][0]
    # They become leaves like any inbox row, and the log verifies.
    assert len(audit_leaves(engine)) == 6
    with make_session_factory(engine)() as session, session.begin():
        sign_checkpoint_now(session, signer=signer, now=moment(9))
    with make_session_factory(engine)() as session:
        report = verify_log(session, verifier_keys=[signer.verifier()], origin=ORIGIN)
    assert report.intact and report.tree_size == 6


def test_a_failed_write_fails_every_request_of_its_batch_and_the_next_batch_is_written(
    engine: Engine,
) -> None:
    writer = _writer(engine)

    async def requests(numbers: range) -> list[BaseException | None]:
        return await asyncio.gather(
            *(writer.record([audit_event(n)]) for n in numbers), return_exceptions=True
        )

    with engine.begin() as connection:  # the inbox is gone: no event can be made durable
        connection.execute(text("ALTER TABLE audit_inbox RENAME TO audit_inbox_away"))
    failed = asyncio.run(requests(range(3)))
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_inbox_away RENAME TO audit_inbox"))
    written = asyncio.run(requests(range(3, 5)))
    assert all(isinstance(outcome, AuditUnavailable) for outcome in failed)
    assert written == [None, None]
    assert [actor for _, actor in _inbox(engine)] == [
        "tcc_officer:officer-3",
        "tcc_officer:officer-4",
    ]


class RecordingWriter(AuditWriter):
    def __init__(self, engine: Engine, *, max_batch_events: int) -> None:
        super().__init__(engine, clock=lambda: moment(0), max_batch_events=max_batch_events)
        self.batch_sizes: list[int] = []

    def _write(self, events: Sequence[AuditEvent]) -> None:
        self.batch_sizes.append(len(events))
        super()._write(events)


def test_a_large_burst_is_split_into_transactions_of_a_bounded_size(engine: Engine) -> None:
    writer = RecordingWriter(engine, max_batch_events=4)

    async def burst() -> None:
        await asyncio.gather(*(writer.record([audit_event(n)] * 2) for n in range(5)))

    asyncio.run(burst())
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AuditInboxRow)) == 10
    # However the five requests met the writer: never more than four events per transaction.
    assert sum(writer.batch_sizes) == 10
    assert max(writer.batch_sizes) <= 4 and len(writer.batch_sizes) >= 3


def test_nothing_to_record_writes_nothing(engine: Engine) -> None:
    writer = _writer(engine)
    asyncio.run(writer.record([]))
    assert writer.batches_written == 0
    assert _inbox(engine) == []


def test_the_driver_path_writes_the_rows_queue_events_writes(postgres_database_url: str) -> None:
    engine = make_engine(postgres_database_url)
    events = [
        audit_event(1),
        audit_event(2, person_id=None, office_code=None, purpose=None),
        audit_event(3, classified_until=dt.date(2027, 1, 2)),
    ]
    try:
        with make_session_factory(engine)() as session, session.begin():
            queue_events(session, events, now=moment(5))
        connection = engine.raw_connection()
        try:
            queue_events_through_driver(connection, events, now=moment(5))
            connection.commit()
        finally:
            connection.close()
        with engine.connect() as connection:
            rows = list(connection.execute(select(AuditInboxRow.__table__).order_by("id")))
    finally:
        engine.dispose()
    by_sqlalchemy, by_driver = rows[:3], rows[3:]
    assert [event_from_columns(row) for row in by_driver] == [
        event_from_columns(row) for row in by_sqlalchemy
    ]
    assert [event_from_columns(row) for row in by_driver] == events
    assert {row.recorded_at for row in rows} == {moment(5)}
    assert len({row.txid for row in by_driver}) == 1


def test_many_threads_recording_at_once_all_get_written_once(engine: Engine) -> None:
    writer = RecordingWriter(engine, max_batch_events=16)

    def requests(thread: int) -> None:
        for number in range(25):
            writer.record_blocking([audit_event(thread * 100 + number)])

    threads = [threading.Thread(target=requests, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    actors = [actor for _, actor in _inbox(engine)]
    assert sorted(actors) == sorted(
        f"tcc_officer:officer-{thread * 100 + number}"
        for thread in range(8)
        for number in range(25)
    )
    assert sum(writer.batch_sizes) == 200 and writer.batches_written == len(writer.batch_sizes)


def test_a_large_queue_by_copy_writes_the_rows_an_insert_writes(postgres_database_url: str) -> None:
    engine = make_engine(postgres_database_url)
    few = [
        audit_event(1),
        audit_event(2, person_id=None, office_code=None, purpose=None),
        audit_event(3, classified_until=dt.date(2027, 1, 2)),
    ]
    many = few * 20  # past the size from which queue_events copies
    try:
        sessions = make_session_factory(engine)
        with sessions() as session, session.begin():
            queue_events(session, few, now=moment(5))
        with sessions() as session, session.begin():
            queue_events(session, many, now=moment(5))
        with engine.connect() as connection:
            rows = list(connection.execute(select(AuditInboxRow.__table__).order_by("id")))
    finally:
        engine.dispose()
    by_insert, by_copy = rows[:3], rows[3:]
    assert [event_from_columns(row) for row in by_copy] == many
    assert [event_from_columns(row) for row in by_copy[:3]] == [
        event_from_columns(row) for row in by_insert
    ]
    assert {row.recorded_at for row in rows} == {moment(5)}
    assert len({row.txid for row in by_copy}) == 1 and by_copy[0].txid > by_insert[0].txid
