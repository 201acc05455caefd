"""Bulk load of whole persons (their facts, identifiers, projection and name keys).

Used by ``oberih load`` and ``oberih bench load``. The population streams through in batches, so
memory stays flat however many persons are loaded. Each batch is folded in Python (the same fold as
online appends, so the projection is what ``rebuild`` would produce) and written by the engine's
``BulkWriter``: COPY on PostgreSQL, batched ``executemany`` on SQLite (decision 2: engine-specific
code sits behind one small interface).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.dialects import postgresql, sqlite

from oberih.db.copy import BACKSLASH, DOUBLE_BACKSLASH, NULL, copy_rows, text_field
from oberih.persons.facts import Fact
from oberih.persons.models import FactRow, IdentifierRow, NameKeyRow, Person, PersonStateRow
from oberih.persons.projection import name_dictionary_entries, projection_row
from oberih.persons.services import fact_columns, identifier_rows
from oberih.persons.state import fold

FACT_COLUMNS = tuple(c.key for c in FactRow.__table__.columns)
IDENTIFIER_COLUMNS = tuple(c.key for c in IdentifierRow.__table__.columns)
PROJECTION_COLUMNS = tuple(c.key for c in PersonStateRow.__table__.columns)


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

    def merge(self, counts: dict[tuple[str, str], list[Any]]) -> None:
        for key, (latin_key, count) in counts.items():
            entry = self.counts.get(key)
            if entry is None:
                self.counts[key] = [latin_key, count]
            else:
                entry[1] += count

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
            copy_facts(cursor, batch.facts)
            copy_rows(cursor, "identifier", IDENTIFIER_COLUMNS, batch.identifiers)
            copy_rows(cursor, "person_state", PROJECTION_COLUMNS, batch.projections)


def copy_facts(cursor: Any, facts: Sequence[dict[str, Any]]) -> None:
    """The journal is most of the bytes of a load: its rows are formatted knowing each column's
    type (the generic path's per-value dispatch costs more than the COPY itself)."""
    if not facts:
        return
    lines = []
    for f in facts:
        valid_from, valid_to, supersedes = f["valid_from"], f["valid_to"], f["supersedes_id"]
        lines.append(
            f"{f['id']}\t{f['person_id']}\t{f['seq']}\t{text_field(f['kind'])}\t"
            f"{orjson.dumps(f['payload']).decode().replace(BACKSLASH, DOUBLE_BACKSLASH)}\t"
            f"{valid_from.isoformat() if valid_from else NULL}\t"
            f"{valid_to.isoformat() if valid_to else NULL}\t"
            f"{f['recorded_at'].isoformat()}\t{text_field(f['source'])}\t"
            f"{text_field(f['source_record_id'])}\t{text_field(f['legal_basis'])}\t{text_field(f['actor'])}\t"
            f"{supersedes if supersedes else NULL}\n"
        )
    with cursor.copy(f"COPY fact ({', '.join(FACT_COPY_ORDER)}) FROM STDIN") as copy:
        copy.write("".join(lines).encode())


FACT_COPY_ORDER = (
    "id",
    "person_id",
    "seq",
    "kind",
    "payload",
    "valid_from",
    "valid_to",
    "recorded_at",
    "source",
    "source_record_id",
    "legal_basis",
    "actor",
    "supersedes_id",
)
if FACT_COPY_ORDER != FACT_COLUMNS:  # a new column in the model must be added to copy_facts
    raise RuntimeError("fact columns changed: update copy_facts")


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


# --- parallel load of a JSON Lines file ---------------------------------------------------------
#
# Folding and formatting cost more Python time than PostgreSQL spends on the COPY, so a file is
# loaded by worker processes, each parsing its share of lines and COPYing on its own connection
# (several PostgreSQL backends then share the work too). SQLite has one writer: one process.


@dataclass
class _ChunkResult:
    persons: int
    facts: int
    identifiers: int
    names: dict[tuple[str, str], list[Any]]


_worker_engine: Engine | None = None


def _init_worker(database_url: str) -> None:
    global _worker_engine
    from oberih.db.engine import make_engine

    _worker_engine = make_engine(database_url)


def _load_chunk(lines: list[str]) -> _ChunkResult:
    from oberih.population.jsonl import person_from_json

    assert _worker_engine is not None
    names = NameCounts()
    batch = build_batch((person_from_json(orjson.loads(line)) for line in lines), names)
    with _worker_engine.begin() as connection:
        PostgresBulkWriter().write(connection, batch)
    return _ChunkResult(len(batch.persons), len(batch.facts), len(batch.identifiers), names.counts)


def _line_chunks(path: Path, size: int) -> Iterator[list[str]]:
    from oberih.population.jsonl import open_text

    with open_text(path, "r") as lines:
        chunk: list[str] = []
        for line in lines:
            if line.strip():
                chunk.append(line)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def load_file(
    engine: Engine,
    path: Path,
    *,
    workers: int = 2,
    batch_size: int = 2000,
    on_batch: Callable[[int], None] | None = None,
) -> LoadReport:
    """Load a population file; in parallel worker processes on PostgreSQL."""
    if engine.dialect.name != "postgresql" or workers <= 1:
        from oberih.population.jsonl import read_jsonl

        return load_people(engine, read_jsonl(path), batch_size=batch_size, on_batch=on_batch)
    url = engine.url.render_as_string(hide_password=False)
    names = NameCounts()
    report = LoadReport()
    context = multiprocessing.get_context("spawn")  # no inherited connections or threads
    with context.Pool(workers, initializer=_init_worker, initargs=(url,)) as pool:
        for result in pool.imap_unordered(_load_chunk, _line_chunks(path, batch_size)):
            report.persons += result.persons
            report.facts += result.facts
            report.identifiers += result.identifiers
            names.merge(result.names)
            if on_batch is not None:
                on_batch(result.persons)
    with engine.begin() as connection:
        report.name_keys = names.merge_into(connection)
    return report
