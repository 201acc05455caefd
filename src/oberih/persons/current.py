"""A person's current state, read on the event loop: the register's most frequent request.

``await current_state(engine, scope, person_id, logged=event, now=now)`` returns the projected
state of the person when they are in ``scope`` (the caller's area), ``None`` otherwise, and
records the read's audit ``event`` (its ``fields`` computed from the state read, as
``PersonRead.shown_fields`` computes them) in the audit inbox **in the same statement**
(``audit.services.with_read_logged``): one round trip and one durable commit, in autocommit
(``db.engine.make_async_engine``), and the state is not returned unless its event is written.
That is decision 7's "in the same transaction as the access", at the cost of one round trip.

The statement is the read ``scope_condition`` describes, executed through the driver: building
the condition and letting SQLAlchemy compile, cache-key and execute it cost about a quarter of
the whole request's CPU, for a statement whose text depends only on the caller's scope. So the
text is compiled once per scope (the scopes in use are few: one per office or region, one per
citizen) and sent with the person's id and the event as its only new parameters; psycopg
prepares it on the server after a few executions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import lru_cache
from typing import Any

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


async def current_state(
    engine: AsyncEngine,
    scope: Scope,
    person_id: uuid.UUID,
    *,
    logged: AuditEvent | None,
    now: dt.datetime,
) -> dict[str, Any] | None:
    """The person's projected state if they are in ``scope``; ``None`` if not (or no person).
    With ``logged``, the read of a found state records that event (``fields`` filled in)."""
    sql, parameters = _compiled(scope, engine.dialect, logged=logged is not None)
    parameters = {**parameters, "person_id": person_id}
    if logged is not None:
        parameters.update(read_logged_parameters(logged, now=now))
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            await cursor.execute(sql, parameters)
            row = await cursor.fetchone()
        finally:
            await cursor.close()
    return None if row is None else row[0]


# ``PersonRead.shown_fields`` of the projected state, which PostgreSQL keeps in a generated
# column (migration 0011): computed in this statement from the JSONB state it cost more than the
# read itself.
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
def _compiled(scope: Scope, dialect: Dialect, *, logged: bool) -> tuple[str, dict[str, Any]]:
    """The SQL text and the scope's own parameters of the read in ``scope``."""
    person_id = bindparam("person_id", uuid.UUID(int=0), type_=PersonStateRow.person_id.type)
    statement = state_in_scope(scope, person_id)
    if logged:
        statement = statement.add_columns(literal_column("person_state.shown_fields"))
    # IN lists are rendered into the text (``render_postcompile``): their length is the scope's.
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    parameters = {name: value for name, value in compiled.params.items() if name != "person_id"}
    sql = str(compiled)
    return (with_read_logged(sql, fields_sql=_SHOWN_FIELDS_SQL) if logged else sql), parameters
