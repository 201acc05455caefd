"""Bulk load of whole persons (their facts, identifiers, projection and name keys).

Used by ``oberih load`` and ``oberih bench load``. The population streams through in batches, so
memory stays flat however many persons are loaded. Each batch is folded in Python (the same fold as
online appends, so the projection is what ``rebuild`` would produce) and written by the engine's
``BulkWriter``: COPY on PostgreSQL, batched ``executemany`` on SQLite (decision 2: engine-specific
code sits behind one small interface).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.dialects import postgresql, sqlite

from oberih.persons.facts import Fact
from oberih.persons.models import FactRow, IdentifierRow, NameKeyRow, Person, PersonStateRow
from oberih.persons.projection import name_dictionary_entries, projection_row
from oberih.persons.services import fact_columns, identifier_rows
from oberih.persons.state import fold

FACT_COLUMNS = tuple(c.key for c in FactRow.__table__.columns)
IDENTIFIER_COLUMNS = tuple(c.key for c in IdentifierRow.__table__.columns)
PROJECTION_COLUMNS = tuple(c.key for c in PersonStateRow.__table__.columns)
JSON_COLUMNS = frozenset({"payload", "state"})


class PersonRecord(Protocol):
    """What the loader needs of a person: the generator's and the feeds' persons both fit."""

    @property
    def person_id(self) -> uuid.UUID: ...

    @property
    def created_at(self) -> dt.datetime: ...

    @property
    def facts(self) -> list[Fact]: ...


@dataclass
class Batch:
    persons: list[dict[str, Any]]
    facts: list[dict[str, Any]]
    identifiers: list[dict[str, Any]]
    projections: list[dict[str, Any]]


@dataclass
class LoadReport:
    persons: int = 0
    facts: int = 0
    identifiers: int = 0
    name_keys: int = 0


class BulkWriter(Protocol):
    def write(self, connection: Connection, batch: Batch) -> None: ...


class NameCounts:
    """Distinct names seen during a load, with their counts (a nation has few distinct names)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], list[Any]] = {}

    def add(self, row: dict[str, Any]) -> None:
        for part, key, latin_key in name_dictionary_entries(row):
            entry = self.counts.get((part, key))
            if entry is None:
                self.counts[(part, key)] = [latin_key, 1]
            else:
                entry[1] += 1

    def merge_into(self, connection: Connection) -> int:
        rows = [
            {"part": part, "key": key, "latin_key": latin, "frequency": count}
            for (part, key), (latin, count) in sorted(self.counts.items())
        ]
        if not rows:
            return 0
        dialect_insert = (
            postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        )
        for chunk in _chunks(rows, 2000):
            statement = dialect_insert(NameKeyRow).values(chunk)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["part", "key"],
                    set_={"frequency": NameKeyRow.frequency + statement.excluded.frequency},
                )
            )
        return len(rows)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def build_batch(people: Iterable[PersonRecord], names: NameCounts) -> Batch:
    batch = Batch(persons=[], facts=[], identifiers=[], projections=[])
    for person in people:
        state = fold(person.person_id, person.facts)
        row = projection_row(state)
        names.add(row)
        batch.persons.append({"id": person.person_id, "created_at": person.created_at})
        batch.facts.extend(fact_columns(fact) for fact in person.facts)
        batch.identifiers.extend(identifier_rows(state))
        batch.projections.append(row)
    return batch


class SqliteBulkWriter:
    """Batched INSERTs inside one transaction per batch."""

    def write(self, connection: Connection, batch: Batch) -> None:
        connection.execute(insert(Person), batch.persons)
        connection.execute(insert(FactRow), batch.facts)
        if batch.identifiers:
            connection.execute(insert(IdentifierRow), batch.identifiers)
        connection.execute(insert(PersonStateRow), batch.projections)


class PostgresBulkWriter:
    """COPY FROM STDIN (text format) straight into the tables, indexes included."""

    def write(self, connection: Connection, batch: Batch) -> None:
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            copy_rows(cursor, "person", ("id", "created_at"), batch.persons)
            copy_rows(cursor, "fact", FACT_COLUMNS, batch.facts)
            copy_rows(cursor, "identifier", IDENTIFIER_COLUMNS, batch.identifiers)
            copy_rows(cursor, "person_state", PROJECTION_COLUMNS, batch.projections)


def copy_rows(
    cursor: Any, table: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    if not rows:
        return
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                tuple(_json_text(row[c]) if c in JSON_COLUMNS else row[c] for c in columns)
            )


def _json_text(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def bulk_writer_for(engine: Engine) -> BulkWriter:
    if engine.dialect.name == "postgresql":
        return PostgresBulkWriter()
    return SqliteBulkWriter()


def load_people(
    engine: Engine,
    people: Iterable[PersonRecord],
    *,
    batch_size: int = 2000,
    on_batch: Callable[[int], None] | None = None,
) -> LoadReport:
    """Load persons in batches, each batch its own transaction; then merge the name keys."""
    writer = bulk_writer_for(engine)
    names = NameCounts()
    report = LoadReport()
    iterator = iter(people)
    while chunk := list(islice(iterator, batch_size)):
        batch = build_batch(chunk, names)
        with engine.begin() as connection:
            writer.write(connection, batch)
        report.persons += len(batch.persons)
        report.facts += len(batch.facts)
        report.identifiers += len(batch.identifiers)
        if on_batch is not None:
            on_batch(len(batch.persons))
    with engine.begin() as connection:
        report.name_keys = names.merge_into(connection)
    return report
