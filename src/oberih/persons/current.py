"""A person's current state, read on the event loop: the register's most frequent request.

``await current_state(engine, scope, person_id)`` returns the projected state of the person when
they are in ``scope`` (the caller's area), ``None`` otherwise: one statement, one round trip, in
autocommit (``db.engine.make_async_engine``). It is the read ``scope_condition`` describes,
executed through the driver: building the condition and letting SQLAlchemy compile, cache-key
and execute it cost about a quarter of the whole request's CPU, for a statement whose text
depends only on the caller's scope. So the text is compiled once per scope (the scopes in use
are few: one per office or region, one per citizen) and sent with the person's id as its only
new parameter; psycopg prepares it on the server after a few executions.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from oberih.auth.jurisdiction import Scope, scope_condition
from oberih.persons.models import PersonStateRow

# Distinct scopes kept compiled; a citizen's scope is their own, so this bounds memory, not use.
COMPILED_SCOPES = 4096


async def current_state(
    engine: AsyncEngine, scope: Scope, person_id: uuid.UUID
) -> dict[str, Any] | None:
    """The person's projected state if they are in ``scope``; ``None`` if not (or no person)."""
    sql, parameters = _compiled(scope, engine.dialect)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            await cursor.execute(sql, {**parameters, "person_id": person_id})
            row = await cursor.fetchone()
        finally:
            await cursor.close()
    return None if row is None else row[0]


@lru_cache(maxsize=COMPILED_SCOPES)
def _compiled(scope: Scope, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """The SQL text and the scope's own parameters of the read in ``scope``."""
    statement = select(PersonStateRow.state).where(
        PersonStateRow.person_id
        == bindparam("person_id", uuid.UUID(int=0), type_=PersonStateRow.person_id.type),
        scope_condition(scope),
    )
    # IN lists are rendered into the text (``render_postcompile``): their length is the scope's.
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    parameters = {name: value for name, value in compiled.params.items() if name != "person_id"}
    return str(compiled), parameters
