"""Group commit of the audit events of reads: one transaction and one WAL flush for many requests.

A request that only reads (a person's record, a search, a history page) changes nothing in the
register, so the guarantee decision 7 asks of its audit event is not atomicity with a write but
this: **no personal data leaves before the event of its access is durable**. Writing the event
in the read's own transaction gives that at the price of one INSERT and one durable commit (a
WAL flush) per request; ``AuditWriter`` gives the same guarantee for a batch at a time:

- the request's transaction commits first (read-only: nothing to flush) and its connection goes
  back to the pool; the handler's response is built but not sent;
- on the event loop, the request hands its events to the process's writer and waits;
- if no batch is being written, the writer starts writing at once: it inserts the events of
  every request waiting at that moment into the audit inbox in one transaction, commits it
  (durable: ``synchronous_commit`` as configured, ``on`` by default) and releases all of them;
  requests arriving meanwhile queue up and go in the next batch, written as soon as this one
  is (no request waits for more than one batch after its own). No timer: a batch waits at most
  a few turns of the event loop for requests about to queue (``_gather``), then is written;
- only then is each response sent. If the write fails, every request of the batch is answered
  503 without its data (``AuditUnavailable``); a crash before the commit means no response left.

So "in the same transaction as the access" is kept in the form that matters for a read: the
event is durable before the access has any effect outside the register. Writes of personal data
(commands) keep their events in their own transaction (``record_access``): there the event must
commit or roll back with the change. The events then reach the Merkle tree through the inbox
like any other (``sequence_inbox``).

The waiting is done on the event loop (a future per request), not in a worker thread: a waiting
request holds neither a thread nor a database connection, and on PostgreSQL the batch is written
through the asyncio driver (``attach``) without a trip to a thread either. Elsewhere (SQLite,
or a writer used outside the serving loop) the batch is written in a worker thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio
import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Session

from oberih.audit.events import AuditEvent
from oberih.audit.services import inbox_insert, queue_events, queue_events_through_driver

logger = logging.getLogger("oberih.audit")

# Events per transaction at most: a burst beyond it is written in several transactions.
MAX_BATCH_EVENTS = 2_000
# Turns of the event loop a batch waits for more requests, at most (``AuditWriter._gather``).
GATHER_ROUNDS = 3


class AuditUnavailable(RuntimeError):
    """The audit events of a request could not be made durable: its answer must not be sent."""


@dataclass(frozen=True, slots=True)
class _Waiting:
    events: Sequence[AuditEvent]
    written: asyncio.Future[None]


class AuditWriter:
    """Writes the audit events of concurrent requests of one process in shared transactions.

    ``await writer.record(events)`` returns once ``events`` are committed to the audit inbox and
    raises ``AuditUnavailable`` when they could not be.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], dt.datetime],
        max_batch_events: int = MAX_BATCH_EVENTS,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._max_batch_events = max_batch_events
        self._queue: list[_Waiting] = []
        self._writing: asyncio.Task[None] | None = None  # the task writing batches, if any
        self._async_engine: AsyncEngine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # The connection batches are written on, kept between batches (one batch is written at
        # a time): taking one from the pool for each batch cost as much CPU as the INSERT.
        self._connection: AsyncConnection | None = None
        self.batches_written = 0  # transactions committed (for tests and diagnostics)

    def attach(self, async_engine: AsyncEngine | None) -> None:
        """Write through ``async_engine`` (``db.engine.make_async_engine``) when called on the
        running loop that owns its connections (the app's lifespan does this)."""
        self._async_engine = async_engine
        self._loop = asyncio.get_running_loop() if async_engine is not None else None

    async def detach(self) -> None:
        """At shutdown, on the attached loop: let the batch being written finish, then close
        the writer's connection (one opened after it had been closed would be left open)."""
        writing = self._writing
        if writing is not None and writing.get_loop() is asyncio.get_running_loop():
            await asyncio.wait([writing])
        connection, self._connection = self._connection, None
        self._async_engine = self._loop = None
        if connection is not None:
            await connection.close()

    async def record(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        loop = asyncio.get_running_loop()
        waiting = _Waiting(events, loop.create_future())
        self._queue.append(waiting)
        if self._writing is None or self._writing.get_loop() is not loop:
            self._writing = loop.create_task(self._write_batches())
        # Shielded: a request whose client went away still has its batch finished (the event
        # was queued; it is written with the others whatever becomes of the request).
        await asyncio.shield(waiting.written)

    async def _write_batches(self) -> None:
        """Write batches until nobody waits; each request learns the outcome of its batch."""
        try:
            while self._queue:
                await self._gather()
                batch = self._take()
                events = [event for waiting in batch for event in waiting.events]
                try:
                    await self._write_batch(events)
                except Exception as exc:
                    # The type only: the message of a database error may quote the values.
                    logger.error("audit events not written: %s", type(exc).__name__)
                    outcome: BaseException | None = AuditUnavailable(
                        "the audit log is not available"
                    )
                else:
                    outcome = None
                    self.batches_written += 1
                for waiting in batch:
                    if waiting.written.done():
                        continue
                    if outcome is None:
                        waiting.written.set_result(None)
                    else:
                        waiting.written.set_exception(outcome)
        finally:
            self._writing = None

    async def _gather(self) -> None:
        """Let the requests that are about to queue join the batch: yield to the event loop
        while that makes the queue grow (at most ``GATHER_ROUNDS`` times). A round is one turn
        of the loop, microseconds, not a timer; under load it makes batches about a third
        larger, and every batch is one INSERT and one WAL flush fewer."""
        for _ in range(GATHER_ROUNDS):
            waiting = len(self._queue)
            await asyncio.sleep(0)
            if len(self._queue) == waiting:
                return

    def _take(self) -> list[_Waiting]:
        count = taken = 0
        for waiting in self._queue:
            if taken and count + len(waiting.events) > self._max_batch_events:
                break
            count += len(waiting.events)
            taken += 1
        batch, self._queue = self._queue[:taken], self._queue[taken:]
        return batch

    async def _write_batch(self, events: Sequence[AuditEvent]) -> None:
        if self._async_engine is not None and asyncio.get_running_loop() is self._loop:
            await self._write_async(self._async_engine, events)
            return
        # A limiter of its own: the write must not wait for one of the request pool's threads,
        # which may all be held by requests waiting for database connections.
        await anyio.to_thread.run_sync(self._write, events, limiter=anyio.CapacityLimiter(1))

    async def _write_async(self, engine: AsyncEngine, events: Sequence[AuditEvent]) -> None:
        # Through the asyncio driver, in autocommit (``make_async_engine``): the one INSERT is
        # its own transaction, durable when it returns, in one round trip to the server.
        statement, parameters = inbox_insert(events, now=self._clock())
        if self._connection is None:
            self._connection = await engine.connect()
        connection = self._connection
        try:
            raw = await connection.get_raw_connection()
            cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                await cursor.execute(statement, parameters)
            finally:
                await cursor.close()
        except BaseException:
            # Whatever went wrong, cancellation included, the next batch starts on a new
            # connection, and this one is closed rather than left for the collector.
            self._connection = None
            await asyncio.shield(connection.invalidate())
            await asyncio.shield(connection.close())
            raise

    def _write(self, events: Sequence[AuditEvent]) -> None:
        """Write one batch in its own transaction (in a worker thread)."""
        now = self._clock()
        if self._engine.dialect.name != "postgresql":
            with Session(self._engine) as session, session.begin():
                queue_events(session, events, now=now)
            return
        # The pool's connection, through the driver (see ``queue_events_through_driver``), in
        # autocommit: the one INSERT is its own transaction, durable when it returns, and the
        # batch costs one round trip to the server instead of three (BEGIN, INSERT, COMMIT).
        connection = self._engine.raw_connection()
        driver = connection.driver_connection
        try:
            driver.autocommit = True  # type: ignore[union-attr]
            try:
                queue_events_through_driver(connection, events, now=now)
            finally:
                driver.autocommit = False  # type: ignore[union-attr]
        finally:
            connection.close()
