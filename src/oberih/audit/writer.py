"""Group commit of the audit events of reads: one transaction and one WAL flush for many requests.

A request that only reads (a person's record, a search, a history page) changes nothing in the
register, so the guarantee decision 7 asks of its audit event is not atomicity with a write but
this: **no personal data leaves before the event of its access is durable**. Writing the event
in the read's own transaction gives that at the price of one INSERT and one durable commit (a
WAL flush) per request; ``AuditWriter`` gives the same guarantee for a batch at a time:

- the request's transaction commits first (read-only: nothing to flush) and its connection goes
  back to the pool; the handler's response is built but not sent;
- in the same worker thread, the request hands its events to the process's writer and waits;
- the first request to find the writer idle leads: it inserts the events of every request
  waiting at that moment into the audit inbox in one transaction, commits it (durable:
  ``synchronous_commit`` as configured, ``on`` by default) and releases all of them; requests
  arriving meanwhile queue up, and the first of them leads the next batch (so no request writes
  more than one batch after its own). No timer: a request that finds the writer idle is written
  at once, alone;
- only then is each response sent. If the write fails, every request of the batch is answered
  503 without its data (``AuditUnavailable``); a crash before the commit means no response left.

So "in the same transaction as the access" is kept in the form that matters for a read: the
event is durable before the access has any effect outside the register. Writes of personal data
(commands) keep their events in their own transaction (``record_access``): there the event must
commit or roll back with the change. The events then reach the Merkle tree through the inbox
like any other (``sequence_inbox``).

The waiting is done in the worker thread that finishes the request's transaction anyway: no
further trip between the event loop and a thread per request, and a waiting request holds no
database connection.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import anyio
import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from oberih.audit.events import AuditEvent
from oberih.audit.services import queue_events, queue_events_through_driver

logger = logging.getLogger("oberih.audit")

# Events per transaction at most: a burst beyond it is written in several transactions.
MAX_BATCH_EVENTS = 2_000
# How long a request waits for the batch its events are in; past it they count as not written.
WAIT_SECONDS = 60.0


class AuditUnavailable(RuntimeError):
    """The audit events of a request could not be made durable: its answer must not be sent."""


@dataclass(slots=True)
class _Waiting:
    events: Sequence[AuditEvent]
    woken: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # woken to lead the next batch, not because its events were written
    written: bool = False


class AuditWriter:
    """Writes the audit events of concurrent requests of one process in shared transactions.

    ``writer.record_blocking(events)`` (in a worker thread) returns once ``events`` are committed
    to the audit inbox and raises ``AuditUnavailable`` when they could not be; ``await
    writer.record(events)`` does the same from the event loop.
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
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._writing = False  # a leader is taking or writing a batch
        self.batches_written = 0  # transactions committed (for tests and diagnostics)

    async def record(self, events: Sequence[AuditEvent]) -> None:
        # A limiter of its own: the wait must not take one of the request pool's threads.
        await anyio.to_thread.run_sync(
            self.record_blocking, events, limiter=anyio.CapacityLimiter(1)
        )

    def record_blocking(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        waiting = _Waiting(events)
        with self._lock:
            self._queue.append(waiting)
            waiting.leads = not self._writing
            self._writing = True
        while True:
            if waiting.leads:
                waiting.leads = False
                self._lead()
            elif not waiting.woken.wait(WAIT_SECONDS):
                self._give_up(waiting)
                continue
            else:
                waiting.woken.clear()
            if waiting.leads:
                continue
            if waiting.written:
                return
            raise AuditUnavailable("the audit log is not available")

    def _give_up(self, waiting: _Waiting) -> None:
        """Leave the queue after waiting too long; a request already in a batch being written,
        or handed the lead, stays (it must lead, or learn the outcome of its batch)."""
        with self._lock:
            if waiting in self._queue and not waiting.leads:
                self._queue.remove(waiting)
                raise AuditUnavailable("the audit log did not answer in time")

    def _lead(self) -> None:
        """Write one batch (the leader's own events are first in the queue), release its
        requests, and hand the lead to the first request still waiting, if any."""
        with self._lock:
            batch = self._take()
        events = [event for waiting in batch for event in waiting.events]
        try:
            self._write(events)
        except Exception as exc:
            # The type only: the message of a database error may quote the values.
            logger.error("audit events not written: %s", type(exc).__name__)
            written = False
        else:
            written = True
        with self._lock:
            if written:
                self.batches_written += 1
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._writing = False
            else:
                successor.leads = True
        for waiting in batch:
            waiting.written = written
            waiting.woken.set()
        if successor is not None:
            successor.woken.set()

    def _take(self) -> list[_Waiting]:
        count = taken = 0
        for waiting in self._queue:
            if taken and count + len(waiting.events) > self._max_batch_events:
                break
            count += len(waiting.events)
            taken += 1
        batch, self._queue = self._queue[:taken], self._queue[taken:]
        return batch

    def _write(self, events: Sequence[AuditEvent]) -> None:
        now = self._clock()
        if self._engine.dialect.name != "postgresql":
            with Session(self._engine) as session, session.begin():
                queue_events(session, events, now=now)
            return
        # The pool's connection, through the driver (see ``queue_events_through_driver``), in
        # autocommit: the one INSERT is its own transaction, durable when it returns, and the
        # batch costs one round trip to the server instead of three (BEGIN, INSERT, COMMIT); on
        # a busy machine each round trip also waits for the server process to be scheduled.
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
