"""Shared request dependencies: the application context, one transaction per request, the clock.

The request's transaction (``DbSession``) is committed before the response is sent, so personal
data never leaves before the audit event of its access is durable. Handlers queue those events
with ``record_access``; ``get_session`` writes them to the audit inbox just before the commit, in
the same transaction (decision 7). The inbox takes no lock: concurrent requests do not queue
behind the tree head; the background task (``oberih.audit.tasks``) makes them leaves of the tree
within a poll.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from oberih.audit.events import AuditEvent
from oberih.audit.services import queue_events
from oberih.config import Settings


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class AppContext:
    """Everything a request needs, built once by the app factory (the composition root)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], dt.datetime] = utc_now
    services: dict[str, Any] = field(default_factory=dict)
    # Benchmark baseline only (``oberih bench api``): reads of a person's record leave no audit
    # event. ``create_app`` refuses it outside development and test.
    audit_reads: bool = True

    def record_read(self, session: Session, event: AuditEvent) -> None:
        """Queue the audit event of a read of a person's record (``record_access``)."""
        if self.audit_reads:
            record_access(session, event)


_PENDING_EVENTS = "oberih.audit.pending_events"


def record_access(session: Session, event: AuditEvent) -> None:
    """Queue the audit event of an access made in the request's transaction; ``get_session``
    records it in the audit inbox in that same transaction, just before committing."""
    session.info.setdefault(_PENDING_EVENTS, []).append(event)


# Async: a dependency this cheap should not cost a trip to the thread pool.
async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


async def get_session(context: Context) -> AsyncIterator[Session]:
    """One transaction per request, committed here when the handler succeeds (the single
    transaction owner: services only add), rolled back when it raises. The queued audit events
    are written to the audit inbox first, in one statement.

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
    await _finish(partial(_commit, session, now=context.clock))


def _commit(session: Session, *, now: Callable[[], dt.datetime]) -> None:
    with session:
        pending: list[AuditEvent] = session.info.pop(_PENDING_EVENTS, [])
        if pending:
            queue_events(session, pending, now=now())
        session.commit()


async def _finish(work: Callable[[], None]) -> None:
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(work, limiter=anyio.CapacityLimiter(1))


# Function scope: the commit happens before the response is sent (the default, request scope,
# would send it first).
DbSession = Annotated[Session, Depends(get_session, scope="function")]


async def get_now(context: Context) -> dt.datetime:
    return context.clock()


Now = Annotated[dt.datetime, Depends(get_now)]


def request_id(request: Request) -> str | None:
    value: str | None = getattr(request.state, "request_id", None)
    return value
