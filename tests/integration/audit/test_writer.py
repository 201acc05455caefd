"""The group commit of read events (``AuditWriter``) on real databases: shared transactions,
durable on return, sequenced and verifiable like any inbox row, and failures that say so."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TypeVar

import pytest
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
from oberih.db.engine import is_postgres, make_async_engine, make_engine, make_session_factory
from tests.audit_support import audit_leaves
from tests.integration.audit.conftest import ORIGIN, moment
from tests.unit.audit.factories import audit_event

T = TypeVar("T")


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


def test_many_requests_recording_at_once_all_get_written_once(engine: Engine) -> None:
    writer = RecordingWriter(engine, max_batch_events=16)

    async def request(client: int) -> None:
        for number in range(25):
            await writer.record([audit_event(client * 100 + number)])
            await asyncio.sleep(0)

    async def clients() -> None:
        await asyncio.gather(*(request(client) for client in range(8)))

    asyncio.run(clients())
    actors = [actor for _, actor in _inbox(engine)]
    assert sorted(actors) == sorted(
        f"tcc_officer:officer-{client * 100 + number}"
        for client in range(8)
        for number in range(25)
    )
    assert sum(writer.batch_sizes) == 200 and writer.batches_written == len(writer.batch_sizes)
    assert len(writer.batch_sizes) < 200  # requests that met a write in progress shared one


# --- through the asyncio driver (PostgreSQL, as the service runs it) ----------------------------


@pytest.fixture
def postgres_engine(postgres_database_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_database_url)
    yield engine
    engine.dispose()


def _on_the_loop(engine: Engine, work: Callable[[AuditWriter], Awaitable[T]]) -> T:
    """``work(writer)`` with the writer attached to an asyncio engine on the running loop."""

    async def run() -> T:
        async_engine = make_async_engine(engine)
        assert async_engine is not None
        writer = _writer(engine)
        writer.attach(async_engine)
        try:
            return await work(writer)
        finally:
            await writer.detach()
            await async_engine.dispose()

    return asyncio.run(run())


def test_the_asyncio_path_writes_concurrent_requests_in_shared_transactions(
    postgres_engine: Engine, signer: AuditSigner
) -> None:
    async def requests(writer: AuditWriter) -> int:
        await asyncio.gather(*(writer.record([audit_event(n)]) for n in range(40)))
        return writer.batches_written

    batches = _on_the_loop(postgres_engine, requests)
    inbox = _inbox(postgres_engine)
    assert sorted(actor for _, actor in inbox) == sorted(
        f"tcc_officer:officer-{n}" for n in range(40)
    )
    # The first request found the writer idle and went alone; the others shared what followed.
    assert batches == len({txid for txid, _ in inbox}) < 40
    assert len(audit_leaves(postgres_engine)) == 40
    with make_session_factory(postgres_engine)() as session, session.begin():
        sign_checkpoint_now(session, signer=signer, now=moment(9))
    with make_session_factory(postgres_engine)() as session:
        report = verify_log(session, verifier_keys=[signer.verifier()], origin=ORIGIN)
    assert report.intact and report.tree_size == 40


def test_the_asyncio_path_fails_the_requests_of_a_batch_it_cannot_write(
    postgres_engine: Engine,
) -> None:
    async def requests(writer: AuditWriter) -> list[BaseException | None]:
        with postgres_engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_inbox RENAME TO audit_inbox_away"))
        failed = await asyncio.gather(
            *(writer.record([audit_event(n)]) for n in range(3)), return_exceptions=True
        )
        with postgres_engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_inbox_away RENAME TO audit_inbox"))
        written = await asyncio.gather(*(writer.record([audit_event(n)]) for n in range(3, 5)))
        return [*failed, *written]

    outcomes = _on_the_loop(postgres_engine, requests)
    assert all(isinstance(outcome, AuditUnavailable) for outcome in outcomes[:3])
    assert outcomes[3:] == [None, None]
    assert sorted(actor for _, actor in _inbox(postgres_engine)) == [
        "tcc_officer:officer-3",
        "tcc_officer:officer-4",
    ]


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
