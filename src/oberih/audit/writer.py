"""Group commit of the audit events of reads: one transaction and one WAL flush for many requests.

A request that only reads (a person's record, a search, a history page) changes nothing in the
register, so the guarantee decision 7 asks of its audit event is not atomicity with a write but
this: **no personal data leaves before the event of its access is durable**. Writing the event
in the read's own transaction gives that at the price of one INSERT and one durable commit (a
WAL flush) per request; ``AuditWriter`` gives the same guarantee for a batch at a time:

- the request's transaction commits first (read-only: nothing to flush) and its connection goes
  back to the pool; the handler's response is built but not sent;
- the request hands its events to the process's writer and waits;
- the writer inserts the events of every request waiting at that moment into the audit inbox in
  one transaction and commits it (durable: ``synchronous_commit`` as configured, ``on`` by
  default), then releases all of them; requests arriving meanwhile form the next batch. No
  timer: a request that finds the writer idle is written at once, alone;
- only then is each response sent. If the write fails, every request of the batch is answered
  503 without its data (``AuditUnavailable``); a crash before the commit means no response left.

So "in the same transaction as the access" is kept in the form that matters for a read: the
event is durable before the access has any effect outside the register. Writes of personal data
(commands) keep their events in their own transaction (``record_access``): there the event must
commit or roll back with the change. The events then reach the Merkle tree through the inbox
like any other (``sequence_inbox``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from oberih.audit.events import AuditEvent
from oberih.audit.services import queue_events, queue_events_through_driver

logger = logging.getLogger("oberih.audit")

# Events per transaction at most: a burst beyond it is written in several transactions.
MAX_BATCH_EVENTS = 2_000


class AuditUnavailable(RuntimeError):
    """The audit events of a request could not be made durable: its answer must not be sent."""


@dataclass(slots=True)
class _Waiting:
    events: Sequence[AuditEvent]
    written: asyncio.Future[None]


@dataclass(slots=True)
class _LoopQueue:
    """The requests of one event loop waiting for their events to be written."""

    waiting: list[_Waiting] = field(default_factory=list)
    flusher: asyncio.Task[None] | None = None


class AuditWriter:
    """Writes the audit events of concurrent requests of one process in shared transactions.

    ``await writer.record(events)`` returns once ``events`` are committed to the audit inbox and
    raises ``AuditUnavailable`` when they could not be. The writing happens in a thread of the
    writer's own, so it never waits for a worker thread of the request pool (every one of those
    may be waiting for a database connection).
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
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="oberih-audit-writer"
        )
        # One queue per event loop: a service has one, but a test client may run requests in a
        # new loop each time, and a future belongs to the loop that made it.
        self._queues: dict[asyncio.AbstractEventLoop, _LoopQueue] = {}
        self.batches_written = 0  # transactions committed (for tests and diagnostics)

    async def record(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        loop = asyncio.get_running_loop()
        queue = self._queue(loop)
        written: asyncio.Future[None] = loop.create_future()
        queue.waiting.append(_Waiting(events, written))
        if queue.flusher is None or queue.flusher.done():
            queue.flusher = loop.create_task(self._flush(loop, queue))
        # Shielded: a client that goes away does not withdraw its events from the batch (an
        # access attempted is still recorded), and the batch is not cut short.
        await asyncio.shield(written)

    def close(self) -> None:
        """Finish the write in progress and stop the writer's thread (at shutdown)."""
        self._executor.shutdown(wait=True)

    def _queue(self, loop: asyncio.AbstractEventLoop) -> _LoopQueue:
        queue = self._queues.get(loop)
        if queue is None:
            for closed in [other for other in self._queues if other.is_closed()]:
                del self._queues[closed]
            queue = self._queues[loop] = _LoopQueue()
        return queue

    async def _flush(self, loop: asyncio.AbstractEventLoop, queue: _LoopQueue) -> None:
        while queue.waiting:
            batch = self._take(queue)
            events = [event for waiting in batch for event in waiting.events]
            try:
                await loop.run_in_executor(self._executor, self._write, events)
            except Exception as exc:
                # The type only: the message of a database error may quote the values.
                logger.error("audit events not written: %s", type(exc).__name__)
                for waiting in batch:
                    _settle(waiting.written, AuditUnavailable("the audit log is not available"))
            else:
                self.batches_written += 1
                for waiting in batch:
                    _settle(waiting.written, None)

    def _take(self, queue: _LoopQueue) -> list[_Waiting]:
        count = taken = 0
        for waiting in queue.waiting:
            if taken and count + len(waiting.events) > self._max_batch_events:
                break
            count += len(waiting.events)
            taken += 1
        batch, queue.waiting = queue.waiting[:taken], queue.waiting[taken:]
        return batch

    def _write(self, events: Sequence[AuditEvent]) -> None:
        now = self._clock()
        if self._engine.dialect.name != "postgresql":
            with Session(self._engine) as session, session.begin():
                queue_events(session, events, now=now)
            return
        # The pool's connection, through the driver (see ``queue_events_through_driver``); given
        # back uncommitted on failure, the pool rolls it back.
        connection = self._engine.raw_connection()
        try:
            queue_events_through_driver(connection, events, now=now)
            connection.commit()
        finally:
            connection.close()


def _settle(written: asyncio.Future[None], error: AuditUnavailable | None) -> None:
    if written.done():
        return
    if error is None:
        written.set_result(None)
    else:
        written.set_exception(error)
