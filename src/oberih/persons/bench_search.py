"""``oberih bench search``: misspelled full-name queries against the bare pg_trgm query.

1. Generate N persons and bulk-load them (skipped when the database already holds exactly N:
   re-measuring a large register need not reload it).
2. Pick persons at random (by random UUIDs: the generator's ids are uniform), write each one's
   full name with one typo (a substituted, dropped or swapped letter in the surname or given
   name), with or without the patronymic, sometimes in spoken order or in KMU-55 Latin.
3. Warm up, then time ``search_persons`` on each query; ``recall_at_10`` is the share of
   queries whose intended person is among the first 10 hits.
4. Baseline (PostgreSQL only): the naive query over all persons,
   ``WHERE (surname || ' ' || given_name) % :q ORDER BY similarity(...) DESC LIMIT 10``, with a
   GIN trigram index on that expression, on the same data and the same misspelled names.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from random import Random
from typing import Any

from sqlalchemy import Engine, Uuid, bindparam, text
from sqlalchemy.orm import Session

from oberih.db.engine import make_engine, make_session_factory
from oberih.db.migrate import upgrade
from oberih.names import to_latin
from oberih.persons.bulk import PersonRecord, load_people
from oberih.persons.search import search_persons

REFERENCE_DATE = dt.date(2026, 11, 1)
WARMUP_QUERIES = 20
TOP = 10
BASELINE_INDEX = "bench_baseline_full_name_trgm"
BASELINE_EXPRESSION = "(surname::text || ' ' || given_name::text)"
_NEXT_PERSON = (
    text(
        "SELECT person_id, surname, given_name, patronymic FROM person_state "
        "WHERE person_id >= :start AND surname IS NOT NULL AND given_name IS NOT NULL "
        "ORDER BY person_id LIMIT 1"
    )
    .bindparams(bindparam("start", type_=Uuid()))
    .columns(person_id=Uuid())
)
_CYRILLIC_LETTERS = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
_LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class BenchQuery:
    person_id: uuid.UUID
    text: str  # the full name as typed, with one typo
    baseline_text: str  # the same misspelled surname and given name only
    parts: int  # name parts typed: 2 (surname, given name) or 3 (with the patronymic)


def generated_population(persons: int, seed: int) -> Iterable[PersonRecord]:
    from oberih.population import generate_population

    people: Iterable[PersonRecord] = generate_population(
        persons=persons, seed=seed, reference_date=REFERENCE_DATE
    )
    return people


def run_search_benchmark(
    *,
    persons: int,
    database_url: str,
    seed: int = 1,
    queries: int = 200,
    population: Callable[[int, int], Iterable[PersonRecord]] = generated_population,
) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        load_s = _ensure_loaded(engine, persons, seed, population)
        rng = Random(seed)  # noqa: S311 (reproducible test queries, not secrets)
        with make_session_factory(engine)() as session:
            bench = make_queries(session, rng, WARMUP_QUERIES + queries)
            warmup, measured = bench[:WARMUP_QUERIES], bench[WARMUP_QUERIES:]
            timings, found = _measure(session, warmup, measured, _search)
            unambiguous = [
                hit
                for query, hit in zip(measured, found, strict=True)
                if _namesakes(session, query) <= TOP
            ]
            baseline: tuple[list[float], list[bool]] | None = None
            if engine.dialect.name == "postgresql":
                _create_baseline_index(engine)
                try:
                    baseline = _measure(session, warmup, measured, _baseline_search)
                finally:
                    session.rollback()
                    _drop_baseline_index(engine)
            dictionary = session.execute(text("SELECT count(*) FROM name_key")).scalar_one()
    finally:
        engine.dispose()
    return {
        "engine": engine.dialect.name,
        "persons": persons,
        "name_keys": dictionary,
        "load_s": load_s,
        "queries": len(measured),
        "warmup_queries": len(warmup),
        "p50_ms": _ms(statistics.median(timings)),
        "p95_ms": _ms(percentile(timings, 95)),
        "max_ms": _ms(max(timings)),
        "recall_at_10": _share(found),
        # A person sharing the typed name parts with more than 10 others cannot be ranked into
        # the first 10 by name alone (the birth year or the region narrows such searches).
        "unambiguous_queries": len(unambiguous),
        "recall_at_10_unambiguous": _share(unambiguous),
        "baseline_p50_ms": _ms(statistics.median(baseline[0])) if baseline else None,
        "baseline_p95_ms": _ms(percentile(baseline[0], 95)) if baseline else None,
        "baseline_recall_at_10": _share(baseline[1]) if baseline else None,
    }


def percentile(values: list[float], rank: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[rank - 1]


def _share(found: list[bool]) -> float | None:
    return round(sum(found) / len(found), 3) if found else None


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _ensure_loaded(
    engine: Engine,
    persons: int,
    seed: int,
    population: Callable[[int, int], Iterable[PersonRecord]],
) -> float | None:
    with engine.connect() as connection:
        present = connection.execute(text("SELECT count(*) FROM person")).scalar_one()
    if present == persons:
        return None
    if present:
        raise RuntimeError(
            f"bench search needs an empty register or one of exactly {persons} persons, "
            f"found {present}"
        )
    started = time.perf_counter()
    load_people(engine, population(persons, seed))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # fresh statistics, as a live register has
    return round(time.perf_counter() - started, 1)


# --- Queries -------------------------------------------------------------------------------------


def make_queries(session: Session, rng: Random, count: int) -> list[BenchQuery]:
    chosen: dict[uuid.UUID, BenchQuery] = {}
    for _ in range(count * 20):
        if len(chosen) == count:
            break
        row = session.execute(_NEXT_PERSON, {"start": uuid.UUID(int=rng.getrandbits(128))}).first()
        if row is not None and row.person_id not in chosen:
            chosen[row.person_id] = misspelled_query(
                rng, row.person_id, row.surname, row.given_name, row.patronymic
            )
    session.rollback()
    return list(chosen.values())


def misspelled_query(
    rng: Random, person_id: uuid.UUID, surname: str, given_name: str, patronymic: str | None
) -> BenchQuery:
    """One person's full name with one typo in the surname or the given name."""
    latin = rng.random() < 0.2
    parts = [surname, given_name, patronymic]
    if latin:
        parts = [to_latin(part) if part else None for part in parts]
    target = rng.choice((0, 1))
    parts[target] = typo(rng, parts[target] or "", _LATIN_LETTERS if latin else _CYRILLIC_LETTERS)
    typed_surname, typed_given, typed_patronymic = parts
    words = [typed_surname, typed_given]
    if typed_patronymic and rng.random() < 0.5:
        words.append(typed_patronymic)
    typed_parts = len(words)
    if rng.random() < 0.1:  # spoken order: given name (patronymic) surname
        words = [*words[1:], words[0]]
    return BenchQuery(
        person_id=person_id,
        text=" ".join(word for word in words if word),
        baseline_text=f"{typed_surname} {typed_given}",
        parts=typed_parts,
    )


def typo(rng: Random, word: str, letters: str) -> str:
    """The word with one letter substituted, dropped, or swapped with its neighbour."""
    for _ in range(20):
        position = rng.randrange(len(word))
        kind = rng.choice(("substitution", "deletion", "transposition"))
        if kind == "substitution":
            changed = word[:position] + rng.choice(letters) + word[position + 1 :]
        elif kind == "deletion" and len(word) > 2:
            changed = word[:position] + word[position + 1 :]
        elif kind == "transposition" and position + 1 < len(word):
            changed = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
        else:
            continue
        if changed.casefold() != word.casefold():
            return changed
    return word


# --- Measuring ---------------------------------------------------------------------------------------


def _search(session: Session, query: BenchQuery) -> list[uuid.UUID]:
    return [hit.person_id for hit in search_persons(session, query=query.text, limit=TOP)]


def _baseline_search(session: Session, query: BenchQuery) -> list[uuid.UUID]:
    rows = session.execute(
        text(
            f"SELECT person_id FROM person_state WHERE {BASELINE_EXPRESSION} % :q "
            f"ORDER BY similarity({BASELINE_EXPRESSION}, :q) DESC LIMIT {TOP}"
        ),
        {"q": query.baseline_text},
    )
    return [row.person_id for row in rows]


def _measure(
    session: Session,
    warmup: list[BenchQuery],
    measured: list[BenchQuery],
    run: Callable[[Session, BenchQuery], list[uuid.UUID]],
) -> tuple[list[float], list[bool]]:
    """Seconds per measured query, and whether each found its person among the first 10."""
    for query in warmup:
        run(session, query)
        session.rollback()
    timings = []
    found = []
    for query in measured:
        started = time.perf_counter()
        person_ids = run(session, query)
        timings.append(time.perf_counter() - started)
        session.rollback()
        found.append(query.person_id in person_ids)
    return timings, found


def _namesakes(session: Session, query: BenchQuery) -> int:
    """Persons (the intended one included) with the same keys on the name parts typed."""
    patronymic = " AND t.patronymic_key = p.patronymic_key" if query.parts == 3 else ""
    statement = text(
        "SELECT count(*) FROM person_state t JOIN person_state p "
        "ON t.surname_key = p.surname_key AND t.given_name_key = p.given_name_key"
        f"{patronymic} WHERE p.person_id = :person_id"
    ).bindparams(bindparam("person_id", type_=Uuid()))
    count: int = session.execute(statement, {"person_id": query.person_id}).scalar_one()
    session.rollback()
    return count


def _create_baseline_index(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS {BASELINE_INDEX} ON person_state "
                f"USING gin ({BASELINE_EXPRESSION} gin_trgm_ops)"
            )
        )
        connection.execute(text("ANALYZE person_state"))


def _drop_baseline_index(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"DROP INDEX IF EXISTS {BASELINE_INDEX}"))
