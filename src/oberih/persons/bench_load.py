"""``oberih bench load``: end-to-end bulk load against a bare COPY baseline, same run, same engine.

1. Generate N persons into a JSON Lines file (not timed: that is the feed the register receives).
2. Time the load of that file end to end: parse, fold, facts + identifiers + projection + name keys
   (in ``workers`` processes on PostgreSQL, each with its own connection).
3. Baseline: dump the projection rows just written, then time loading exactly those rows into a
   bare table with the same indexes (COPY on PostgreSQL, batched INSERT on SQLite).
``ratio`` = persons_per_s / baseline_rows_per_s. Peak RSS shows memory does not grow with N.
"""

from __future__ import annotations

import datetime as dt
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from oberih.db.engine import make_engine
from oberih.db.migrate import upgrade
from oberih.persons.bulk import load_file
from oberih.population import generate_population, write_jsonl

BASELINE_TABLE = "bench_baseline_person_state"
REFERENCE_DATE = dt.date(2026, 11, 1)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_load_benchmark(
    *, persons: int, database_url: str, seed: int = 1, workers: int = 2
) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        _require_empty(engine)
        with tempfile.TemporaryDirectory(prefix="oberih-bench-") as scratch:
            feed = Path(scratch) / "population.jsonl"
            started = time.perf_counter()
            write_jsonl(
                generate_population(persons=persons, seed=seed, reference_date=REFERENCE_DATE),
                feed,
            )
            generate_s = time.perf_counter() - started
            started = time.perf_counter()
            report = load_file(engine, feed, workers=workers)
            load_s = time.perf_counter() - started
            baseline_s = _baseline(engine, Path(scratch))
    finally:
        engine.dispose()
    persons_per_s = report.persons / load_s
    baseline_rows_per_s = report.persons / baseline_s
    return {
        "engine": engine.dialect.name,
        "workers": workers if engine.dialect.name == "postgresql" else 1,
        "persons": report.persons,
        "facts": report.facts,
        "generate_s": round(generate_s, 2),
        "load_s": round(load_s, 2),
        "persons_per_s": round(persons_per_s),
        "facts_per_s": round(report.facts / load_s),
        "baseline_s": round(baseline_s, 2),
        "baseline_rows_per_s": round(baseline_rows_per_s),
        "ratio": round(persons_per_s / baseline_rows_per_s, 3),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def _require_empty(engine: Engine) -> None:
    with engine.connect() as connection:
        if connection.execute(text("SELECT count(*) FROM person")).scalar_one():
            raise RuntimeError("bench load needs an empty register (a fresh database)")


def _baseline(engine: Engine, scratch: Path) -> float:
    if engine.dialect.name == "postgresql":
        return _postgres_baseline(engine, scratch / "projection.copy")
    return _sqlite_baseline(engine)


def _postgres_baseline(engine: Engine, dump: Path) -> float:
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {BASELINE_TABLE}"))
        # LIKE ... INCLUDING ALL copies columns, defaults and indexes, not foreign keys: a bare
        # table with the same indexes.
        connection.execute(text(f"CREATE TABLE {BASELINE_TABLE} (LIKE person_state INCLUDING ALL)"))
    raw = engine.raw_connection()
    try:
        cursor: Any = raw.cursor()
        with dump.open("wb") as out, cursor.copy("COPY person_state TO STDOUT") as copy:
            for block in copy:
                out.write(block)
        raw.commit()
        started = time.perf_counter()
        with dump.open("rb") as feed, cursor.copy(f"COPY {BASELINE_TABLE} FROM STDIN") as copy:
            while block := feed.read(1 << 20):
                copy.write(block)
        raw.commit()
        elapsed = time.perf_counter() - started
        cursor.execute(f"DROP TABLE {BASELINE_TABLE}")
        raw.commit()
    finally:
        raw.close()
    return elapsed


def _sqlite_baseline(engine: Engine) -> float:
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {BASELINE_TABLE}"))
        connection.execute(
            text(f"CREATE TABLE {BASELINE_TABLE} AS SELECT * FROM person_state WHERE 0")
        )
        connection.execute(
            text(
                f"CREATE INDEX ix_{BASELINE_TABLE}_name ON {BASELINE_TABLE} "
                "(surname_key, given_name_key, birth_year)"
            )
        )
        connection.execute(
            text(f"CREATE INDEX ix_{BASELINE_TABLE}_office ON {BASELINE_TABLE} (office_code)")
        )
        connection.execute(
            text(f"CREATE UNIQUE INDEX ix_{BASELINE_TABLE}_pk ON {BASELINE_TABLE} (person_id)")
        )
    raw = engine.raw_connection()
    try:
        reader: Any = raw.cursor()
        cursor: Any = raw.cursor()
        reader.execute("SELECT * FROM person_state")
        elapsed = 0.0
        while rows := reader.fetchmany(2000):  # read untimed, write timed
            placeholders = ", ".join("?" * len(rows[0]))
            started = time.perf_counter()
            cursor.executemany(f"INSERT INTO {BASELINE_TABLE} VALUES ({placeholders})", rows)
            raw.commit()
            elapsed += time.perf_counter() - started
        cursor.execute(f"DROP TABLE {BASELINE_TABLE}")
        raw.commit()
    finally:
        raw.close()
    return elapsed
