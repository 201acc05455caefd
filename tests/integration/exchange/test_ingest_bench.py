"""The ingest benchmark end to end, small: every record it sends ends in a final state, with two
worker processes on PostgreSQL and one on SQLite (the figures themselves are the benchmark's)."""

from __future__ import annotations

from sqlalchemy import func, select

from oberih.db.engine import make_engine, make_session_factory
from oberih.exchange.bench import run_ingest_benchmark
from oberih.exchange.models import ExchangeRecord, RecordState


def test_ingest_benchmark_takes_every_record_to_a_final_state(database_url: str) -> None:
    result = run_ingest_benchmark(records=300, seed=5, database_url=database_url, workers=2)
    assert result["records"] == 300
    assert result["workers"] == (2 if database_url.startswith("postgresql") else 1)
    assert result["records_per_s"] > 0 and result["baseline_rows_per_s"] > 0
    assert result["cpu_ms_per_record"] > 0
    if database_url.startswith("postgresql"):  # the server's processes on this machine
        assert result["database_cpu_ms_per_record"] > 0
    else:
        assert result["database_cpu_ms_per_record"] is None
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            states = dict(
                session.execute(
                    select(ExchangeRecord.state, func.count()).group_by(ExchangeRecord.state)
                ).all()
            )
    finally:
        engine.dispose()
    # Duplicate lines within a source's batch are stored once per line: 300 lines in all.
    assert sum(states.values()) == 300
    assert RecordState.pending not in states
    assert states[RecordState.applied] > 200
