"""Query pieces both engines plan well."""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    and_,
    any_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from oberih.db.copy import copy_rows


def among(column: Any, values: Iterable[Any], *, dialect: str) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(:array)``, one parameter whatever the
    number of values, so that SQLAlchemy and psycopg handle a statement of constant text (an
    ``IN`` list of hundreds of ids is rendered and parsed anew on every call)."""
    values = list(values)
    condition: ColumnElement[bool]
    if dialect == "postgresql":
        condition = column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    else:
        condition = column.in_(values)
    return condition


def pairs_in(
    first: Any, second: Any, pairs: Iterable[tuple[Any, Any]], *, dialect: str
) -> ColumnElement[bool]:
    """``(first, second) IN pairs``, in the form each engine plans as index lookups.

    A row-value ``IN`` list is not matched against a composite index by PostgreSQL's planner: a
    chunk's 500 (source, record id) pairs scanned the whole journal. PostgreSQL gets the pairs
    as two arrays, ``(first, second) IN (SELECT * FROM unnest(:firsts, :seconds))``: a nested
    loop of index lookups, and a statement of constant text whatever the number of pairs, so
    that SQLAlchemy and psycopg compile it once (an ``OR`` of a few hundred branches cost as much
    CPU to build as the records it served cost to process). SQLite, which has no arrays, gets
    ``first = a AND second IN (...) OR ...``, grouped by the first column (a handful of sources
    or identifier kinds), each branch an index lookup.
    """
    if dialect == "postgresql":
        unique = sorted(set(pairs))
        if not unique:
            return false()
        given = (
            func.unnest(
                bindparam(None, [a for a, _ in unique], type_=ARRAY(first.type)),
                bindparam(None, [b for _, b in unique], type_=ARRAY(second.type)),
            )
            .table_valued("first", "second")
            .render_derived()
        )
        return tuple_(first, second).in_(select(given.c.first, given.c.second))
    grouped: dict[Any, set[Any]] = defaultdict(set)
    for a, b in pairs:
        grouped[a].add(b)
    if not grouped:
        return false()
    return or_(*(and_(first == a, second.in_(sorted(bs))) for a, bs in sorted(grouped.items())))


def upsert(
    connection: Connection, model: type[Any], key: list[str], *, add: str | None = None
) -> Executable:
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` of every other column, on either engine; the
    column ``add`` is incremented by the inserted value instead (a counter, kept exact when
    several writers add to it at once).

    Many rows updated by key in one multi-row statement (an UPDATE per row costs a statement
    each), and still an update in place: a transaction waiting on the row's lock sees the new
    version, which a DELETE and INSERT would not give it."""
    columns = [column.name for column in model.__table__.columns if column.name not in key]
    statement = (postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert)(
        model
    )
    excluded = statement.excluded
    values = {name: excluded[name] for name in columns}
    if add is not None:
        values[add] = getattr(model, add) + excluded[add]
    return statement.on_conflict_do_update(index_elements=key, set_=values)


def insert_many(connection: Connection, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT many rows: COPY on PostgreSQL (one stream; an executemany is a statement per row
    on the server), executemany on SQLite (its fastest path)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(model), list(rows))
        return
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor:
        copy_rows(cursor, model.__tablename__, list(rows[0]), rows)


def update_many(
    connection: Connection, model: type[Any], key: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """UPDATE many rows by ``key`` with their other values. PostgreSQL: COPY into a temporary
    table, then one ``UPDATE ... FROM`` (an update in place, as ``upsert``); SQLite:
    executemany."""
    if not rows:
        return
    table = model.__tablename__
    columns = [name for name in rows[0] if name not in key]
    if connection.dialect.name != "postgresql":
        statement = (
            update(model)
            .where(*(getattr(model, name) == bindparam(f"key_{name}") for name in key))
            .values({name: bindparam(name) for name in columns})
        )
        connection.execute(
            statement, [{**row, **{f"key_{name}": row[name] for name in key}} for row in rows]
        )
        return
    names = list(rows[0])
    # Only the columns sent, without the table's constraints; one such table per column set.
    incoming = f"{table}_incoming_{zlib.crc32(','.join(names).encode()):08x}"
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {incoming} ON COMMIT DELETE ROWS AS "
        f"SELECT {', '.join(names)} FROM {table} WITH NO DATA"
    )
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor:
        copy_rows(cursor, incoming, names, rows)
    assignments = ", ".join(f"{name} = i.{name}" for name in columns)
    matches = " AND ".join(f"t.{name} = i.{name}" for name in key)
    connection.exec_driver_sql(
        f"UPDATE {table} AS t SET {assignments} FROM {incoming} AS i WHERE {matches}"
    )
    connection.exec_driver_sql(f"DELETE FROM {incoming}")
