"""Shared request dependencies: the application context, one transaction per request, the clock.

The request's transaction (``DbSession``) is committed before the response is sent, and so are
the audit events of its accesses, so personal data never leaves before the event of its access
is durable (decision 7). Handlers queue those events in one of two ways:

- ``record_access``: ``get_session`` writes them to the audit inbox just before the commit, in
  the request's own transaction. For requests that change the register: the event commits or
  rolls back with the change.
- ``record_read``: for requests that change nothing. ``get_session`` commits the (read-only)
  transaction, then hands the events to the process's ``AuditWriter``, which writes those of
  all concurrent requests in one transaction (group commit, see ``oberih.audit.writer``), and
  lets the response go only once they are durable; 503 without the data if they cannot be.

The inbox takes no lock: concurrent requests do not queue behind the tree head; the background
task (``oberih.audit.tasks``) makes them leaves of the tree within a poll.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, sessionmaker

from oberih.api.problems import ApiProblem
from oberih.audit.events import AuditEvent
from oberih.audit.services import queue_events
from oberih.audit.writer import AuditUnavailable, AuditWriter
from oberih.config import Settings
from oberih.db.engine import make_async_engine
from oberih.persons.current import CurrentReads

T = TypeVar("T")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class AppContext:
    """Everything a request needs, built once by the app factory (the composition root)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    audit_writer: AuditWriter
    clock: Callable[[], dt.datetime] = utc_now
    services: dict[str, Any] = field(default_factory=dict)
    # Benchmark baseline only (``oberih bench api``): reads of a person's record leave no audit
    # event. ``create_app`` refuses it outside development and test.
    audit_reads: bool = True
    # PostgreSQL only, made on the serving loop by the app's lifespan (``attach_loop``): the
    # reads answered on the event loop without a worker thread. ``None`` elsewhere: those reads
    # then take the thread path.
    async_engine: AsyncEngine | None = None
    current_reads: CurrentReads | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def attach_loop(self) -> None:
        """On the serving loop, at start-up: open the asyncio engine of its fast paths."""
        self.async_engine = make_async_engine(self.engine)
        self._loop = asyncio.get_running_loop()
        self.audit_writer.attach(self.async_engine)
        if self.async_engine is not None:
            self.current_reads = CurrentReads(self.async_engine)

    async def detach_loop(self) -> None:
        await self.audit_writer.detach()
        if self.current_reads is not None:
            await self.current_reads.close()
        if self.async_engine is not None:
            await self.async_engine.dispose()
        self.async_engine = self.current_reads = self._loop = None

    def loop_reads(self) -> CurrentReads | None:
        """The current-state reads of the event loop when called on the loop that owns their
        connections, else ``None``."""
        if self.current_reads is None or asyncio.get_running_loop() is not self._loop:
            return None
        return self.current_reads

    def record_read(self, session: Session, event: AuditEvent) -> None:
        """Queue the audit event of a read of a person's record (``record_read``)."""
        if self.audit_reads:
            record_read(session, event)


_PENDING_EVENTS = "oberih.audit.pending_events"
_READ_EVENTS = "oberih.audit.read_events"


def record_access(session: Session, event: AuditEvent) -> None:
    """Queue the audit event of an access made in the request's transaction; ``get_session``
    records it in the audit inbox in that same transaction, just before committing."""
    session.info.setdefault(_PENDING_EVENTS, []).append(event)


def record_read(session: Session, event: AuditEvent) -> None:
    """Queue the audit event of a read by a request that changes nothing; ``get_session`` has it
    written by the group commit after the request's transaction, and the response waits for it
    to be durable. A request that changes the register records with ``record_access``."""
    session.info.setdefault(_READ_EVENTS, []).append(event)


# Async: a dependency this cheap should not cost a trip to the thread pool.
async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


async def get_session(context: Context) -> AsyncIterator[Session]:
    """One transaction per request, committed here when the handler succeeds (the single
    transaction owner: services only add), rolled back when it raises. The events queued with
    ``record_access`` are written to the audit inbox first, in one statement; those queued with
    ``record_read`` are written by the group commit once the transaction has ended, and this
    dependency returns (letting the response go) only when they are durable.

    The session is made in the event loop (it touches the database only at its first statement)
    and finished in a thread with a limiter of its own, as FastAPI finishes dependencies: a
    transaction that holds a connection never waits for a free worker thread.
    """
    session = context.sessions()
    try:
        yield session
    except BaseException:
        await _finish(session.close)  # closing rolls the transaction back
        raise
    reads = await _finish(partial(_commit, session, now=context.clock))
    await record_reads(context, reads)


async def in_transaction(context: AppContext, work: Callable[[Session], T]) -> T:
    """``work(session)`` in a transaction of its own, in a worker thread, finished as
    ``get_session`` finishes the request's: for an ``async`` handler that answers most requests
    on the event loop and needs a transaction only for some."""

    def run() -> tuple[T, list[AuditEvent]]:
        session = context.sessions()
        try:
            result = work(session)
        except BaseException:
            session.close()  # closing rolls the transaction back
            raise
        return result, _commit(session, now=context.clock)

    result, reads = await _finish(run)
    await record_reads(context, reads)
    return result


async def record_reads(context: AppContext, events: list[AuditEvent]) -> None:
    """Have the group commit make the audit events of reads durable; 503 when it cannot. Called
    before the response is sent: the data read does not leave without its events."""
    try:
        await context.audit_writer.record(events)
    except AuditUnavailable:
        raise ApiProblem(
            503, "audit-unavailable", "The audit log is not available; nothing was disclosed"
        ) from None


def _commit(session: Session, *, now: Callable[[], dt.datetime]) -> list[AuditEvent]:
    """Commit the session's transaction with the events of its writes; return its reads'."""
    with session:
        pending: list[AuditEvent] = session.info.pop(_PENDING_EVENTS, [])
        reads: list[AuditEvent] = session.info.pop(_READ_EVENTS, [])
        if pending:
            queue_events(session, pending, now=now())
        session.commit()
    return reads


async def _finish(work: Callable[[], T]) -> T:
    with anyio.CancelScope(shield=True):
        result = await anyio.to_thread.run_sync(work, limiter=anyio.CapacityLimiter(1))
    return result


# Function scope: the commit happens before the response is sent (the default, request scope,
# would send it first).
DbSession = Annotated[Session, Depends(get_session, scope="function")]


async def get_now(context: Context) -> dt.datetime:
    return context.clock()


Now = Annotated[dt.datetime, Depends(get_now)]


def request_id(request: Request) -> str | None:
    value: str | None = getattr(request.state, "request_id", None)
    return value
