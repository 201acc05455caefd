"""Query pieces both engines plan well."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Executable, and_, false, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def pairs_in(first: Any, second: Any, pairs: Iterable[tuple[Any, Any]]) -> ColumnElement[bool]:
    """``(first, second) IN pairs``, written as ``first = a AND second IN (...) OR ...``.

    A row-value ``IN`` list is not matched against a composite index by PostgreSQL's planner: a
    chunk's 500 (source, record id) pairs scanned the whole journal. Grouped by the first column
    (a handful of sources or identifier kinds), each branch is an index lookup on both engines.
    """
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
