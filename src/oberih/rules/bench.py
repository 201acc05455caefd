"""``oberih bench rules``: full recompute of determinations and single-evaluation latency.

1. Generate N persons and bulk-load them into a fresh database (not timed).
2. Full recompute on the reference day: every person evaluated, every determination written
   (``determinations_per_s``).
3. The same recompute again: nothing changed, nothing written (``unchanged_per_s``).
4. Single evaluations with their explanation (``determine`` + ``to_json``) of a sample of stored
   persons, one at a time: ``evaluate_p50_ms`` and ``evaluate_p99_ms``.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from typing import Any

from sqlalchemy import Engine, select, text

from oberih.db.engine import make_engine
from oberih.db.migrate import upgrade
from oberih.persons.bulk import load_people
from oberih.persons.models import PersonStateRow
from oberih.population import generate_population
from oberih.rules.determination import determine
from oberih.rules.profile import default_profile
from oberih.rules.services import recompute
from oberih.rules.situation import Situation, situation_from_state_json

REFERENCE_DATE = dt.date(2026, 11, 1)


def run_rules_benchmark(
    *,
    persons: int,
    database_url: str,
    seed: int = 1,
    workers: int = 2,
    samples: int = 5000,
) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        _require_empty(engine)
        started = time.perf_counter()
        load_people(
            engine,
            generate_population(persons=persons, seed=seed, reference_date=REFERENCE_DATE),
        )
        load_s = time.perf_counter() - started
        full = recompute(engine, at=REFERENCE_DATE, workers=workers)
        again = recompute(engine, at=REFERENCE_DATE, workers=workers)
        latencies = _single_evaluations(engine, samples)
    finally:
        engine.dispose()
    return {
        "engine": engine.dialect.name,
        "persons": full.persons,
        "workers": workers,
        "load_s": round(load_s, 2),
        "recompute_s": round(full.seconds, 2),
        "determinations_per_s": round(full.persons / full.seconds),
        "written": full.written,
        "failed": full.failed,
        "unchanged_recompute_s": round(again.seconds, 2),
        "unchanged_per_s": round(again.persons / again.seconds),
        "unchanged_written": again.written,
        "evaluate_samples": len(latencies),
        "evaluate_p50_ms": round(statistics.median(latencies), 3),
        "evaluate_p99_ms": round(_percentile(latencies, 0.99), 3),
        "evaluate_max_ms": round(max(latencies), 3),
    }


def _require_empty(engine: Engine) -> None:
    with engine.connect() as connection:
        if connection.execute(text("SELECT count(*) FROM person")).scalar_one():
            raise RuntimeError("bench rules needs an empty register (a fresh database)")


def _single_evaluations(engine: Engine, samples: int) -> list[float]:
    profile = default_profile()
    with engine.connect() as connection:
        states = connection.execute(
            select(PersonStateRow.state).order_by(PersonStateRow.person_id).limit(samples)
        ).scalars()
        situations: list[Situation] = [
            situation_from_state_json(json.loads(s) if isinstance(s, str) else s) for s in states
        ]
    determine(situations[0], REFERENCE_DATE, profile)  # warm the caches, as a server would be
    latencies = []
    for situation in situations:
        started = time.perf_counter()
        determine(situation, REFERENCE_DATE, profile).to_json()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
