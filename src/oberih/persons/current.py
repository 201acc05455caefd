"""A person's current state, read on the event loop: the register's most frequent request.

``await CurrentReads(engine).read(scope, person_id, logged=event, now=now)`` returns the
projected state of the person when they are in ``scope`` (the caller's area), ``None``
otherwise, and records the read's audit ``event`` (its ``fields`` computed from the state read,
as ``PersonRead.shown_fields`` computes them) in the audit inbox **in the same statement**
(``audit.services.with_read_logged``): the state is not returned unless its event is written.
That is decision 7's "in the same transaction as the access", at the cost of one round trip. A
read alone is one autocommit statement (``db.engine.make_async_engine``); reads that arrive
together go in one pipelined transaction: one commit for all of them.

The statement is the read ``scope_condition`` describes, executed through the driver: building
the condition and letting SQLAlchemy compile, cache-key and execute it cost about a quarter of
the whole request's CPU, for a statement whose text depends only on the caller's scope. So the
text is compiled once per scope (the scopes in use are few: one per office or region, one per
citizen) and sent with the person's id and the event as its only new parameters; psycopg
prepares it on the server after a few executions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from functools import lru_cache
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import Select, bindparam, literal_column, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import BindParameter

from oberih.audit.events import AuditEvent
from oberih.audit.services import read_logged_parameters, with_read_logged
from oberih.auth.jurisdiction import Scope, scope_condition
from oberih.persons.models import PersonStateRow

# Distinct scopes kept compiled; a citizen's scope is their own, so this bounds memory, not use.
COMPILED_SCOPES = 4096


class CurrentReads:
    """Current-state reads on one event loop, the audited ones committed together.

    Each audited read is one statement that writes its event; alone, each is its own
    transaction, and its durable commit (a WAL flush) cost the database more than
    the read and the insert together. Reads that arrive while earlier ones are being answered
    wait for them and are then sent together, in one transaction, in one round trip (libpq's
    pipeline mode): one commit for all. This is PostgreSQL's own group commit, done where the
    requests are: no read waits for a timer (a read arriving when none is in flight goes at
    once, alone, in autocommit), and none is answered before the commit that
    records it. If any statement fails, the transaction fails as a whole: every read in it is
    answered with the error and nothing is disclosed.

    Sending reads together also saves each its own connection checkout and round trip: the
    unaudited reads of the benchmark's baseline are sent together the same way (without the
    transaction, having nothing to commit), so that the baseline is not slowed by what this
    saves.
    """

    def __init__(self, engine: AsyncEngine, *, max_batch: int = 64) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._waiting: list[tuple[_Statement, asyncio.Future[dict[str, Any] | None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def read(
        self, scope: Scope, person_id: uuid.UUID, *, logged: AuditEvent | None, now: dt.datetime
    ) -> dict[str, Any] | None:
        """The person's projected state if they are in ``scope``; ``None`` if not (or no
        person). With ``logged``, the read of a found state records that event (``fields``
        filled in), committed with the reads sent with it."""
        statement = _statement(self._engine, scope, person_id, logged=logged, now=now)
        answer: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((statement, answer))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send())
        return await answer

    async def close(self) -> None:
        """Wait for the reads in flight (at shutdown, before the engine is disposed of)."""
        if self._sender is not None:
            await self._sender

    async def _send(self) -> None:
        batch: list[tuple[_Statement, asyncio.Future[dict[str, Any] | None]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                try:
                    states = await self._send_batch([s for s, _ in batch])
                except Exception as exc:  # every read of the batch fails with it
                    _fail(batch, exc)
                    continue
                for (_statement_sent, answer), state in zip(batch, states, strict=True):
                    if not answer.done():  # a request cancelled meanwhile
                        answer.set_result(state)
        except BaseException:
            # Cancelled (the server stopping): no read may wait for an answer that never comes;
            # they are answered 503, to be retried (``api.problems``).
            _fail([*batch, *self._waiting], psycopg.OperationalError("the server is stopping"))
            self._waiting.clear()
            raise
        finally:
            self._sender = None

    async def _send_batch(self, statements: list[_Statement]) -> list[dict[str, Any] | None]:
        connection = await self._engine.connect()
        try:
            raw = await connection.get_raw_connection()
            return await _execute(raw.driver_connection, statements)
        except asyncio.CancelledError:
            # Cancelled mid-pipeline (the server stopping): what the connection is in the middle
            # of is unknown, so it is closed, not handed back to the pool. Returned, its reset
            # could itself be cancelled, and the collector would find the driver's connection
            # still open (a leak psycopg warns about).
            await asyncio.shield(connection.invalidate())
            raise
        finally:
            await asyncio.shield(connection.close())


def _fail(
    reads: list[tuple[_Statement, asyncio.Future[dict[str, Any] | None]]], error: BaseException
) -> None:
    for _statement, answer in reads:
        if not answer.done():
            answer.set_exception(error)


class _Statement(NamedTuple):
    sql: str
    parameters: list[Any]  # positional (``%s``)
    writes: bool  # records an audit event


def _statement(
    engine: AsyncEngine,
    scope: Scope,
    person_id: uuid.UUID,
    *,
    logged: AuditEvent | None,
    now: dt.datetime,
) -> _Statement:
    sql, scope_values, person_positions = _compiled(
        scope, engine.dialect, logged=logged is not None
    )
    parameters = list(scope_values)
    for position in person_positions:
        parameters[position] = person_id
    if logged is not None:
        parameters.extend(read_logged_parameters(logged, now=now))
    return _Statement(sql, parameters, writes=logged is not None)


async def _execute(connection: Any, statements: list[_Statement]) -> list[dict[str, Any] | None]:
    """The first column of each statement's row (``None``: no row). One statement is sent as
    it is (in autocommit, its own transaction); several are pipelined, in one transaction when
    any of them writes (an audited read, ``_compiled(logged=True)``)."""
    if len(statements) == 1:
        ((sql, parameters, _writes),) = statements
        async with connection.cursor() as cursor:
            await cursor.execute(sql, parameters)
            row = await cursor.fetchone()
        return [None if row is None else row[0]]
    cursors = []
    try:
        writes = any(statement.writes for statement in statements)
        async with connection.pipeline():
            if writes:
                await connection.execute("BEGIN")
            for sql, parameters, _writes in statements:
                cursors.append(await connection.execute(sql, parameters))
            if writes:
                await connection.execute("COMMIT")
    except Exception:
        # A failed statement leaves the transaction aborted: end it before the connection
        # goes back to the pool (a broken connection is discarded by the pool anyway).
        if not connection.closed:
            await connection.rollback()
        raise
    states: list[dict[str, Any] | None] = []
    for cursor in cursors:
        row = await cursor.fetchone()
        states.append(None if row is None else row[0])
    return states


# ``PersonRead.shown_fields`` of the projected state, which PostgreSQL keeps in a generated
# column (migrations 0011, 0012): computed in this statement from the JSONB state it cost more
# than the read itself.
_SHOWN_FIELDS_SQL = "to_jsonb(found.shown_fields)"


def state_in_scope(
    scope: Scope, person_id: uuid.UUID | BindParameter[uuid.UUID]
) -> Select[tuple[Any]]:
    """The projected state of the person if they are in ``scope`` (no row otherwise): the read
    of both paths, this one's compiled and the worker thread's executed on its session."""
    return select(PersonStateRow.state).where(
        PersonStateRow.person_id == person_id, scope_condition(scope)
    )


@lru_cache(maxsize=COMPILED_SCOPES)
def _compiled(
    scope: Scope, dialect: Dialect, *, logged: bool
) -> tuple[str, tuple[Any, ...], tuple[int, ...]]:
    """The SQL text of the read in ``scope``, with positional parameters (``%s``): their values
    for the scope, and the positions where the person's id goes. Positional because psycopg
    maps named parameters to positions again on every execution."""
    person_id = bindparam("person_id", uuid.UUID(int=0), type_=PersonStateRow.person_id.type)
    statement = state_in_scope(scope, person_id)
    if logged:
        statement = statement.add_columns(literal_column("person_state.shown_fields"))
    # IN lists are rendered into the text (``render_postcompile``): their length is the scope's.
    compiled = statement.compile(
        dialect=_positional(dialect), compile_kwargs={"render_postcompile": True}
    )
    names = compiled.positiontup or []
    values = tuple(compiled.params[name] for name in names)
    positions = tuple(index for index, name in enumerate(names) if name == "person_id")
    sql = str(compiled)
    return (
        (
            with_read_logged(sql, fields_sql=_SHOWN_FIELDS_SQL, answer_sql="found.state")
            if logged
            else sql
        ),
        values,
        positions,
    )


@lru_cache(maxsize=4)
def _positional(dialect: Dialect) -> Dialect:
    """A dialect like ``dialect`` writing ``%s`` placeholders (psycopg's positional style)."""
    positional: Dialect = type(dialect)(paramstyle="format")  # type: ignore[call-arg]
    return positional
