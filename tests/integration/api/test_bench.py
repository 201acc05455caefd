"""``oberih bench api``: the machinery (servers, load, figures), not the speed, on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from oberih.api.app import create_app
from oberih.api.bench import run_api_benchmark
from oberih.config import InsecureConfiguration, Settings


def test_reads_without_audit_are_refused_outside_development(tmp_path: Path) -> None:
    settings = Settings(env="production", database_url=f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(InsecureConfiguration):
        create_app(settings, audit_reads=False)


def test_the_benchmark_reads_through_http_and_audits_only_the_audited_server(
    tmp_path: Path,
) -> None:
    figures = run_api_benchmark(
        database_url=f"sqlite:///{tmp_path}/bench.db",
        persons=40,
        seconds=1,
        rounds=2,
        connections=2,
        workers=1,
    )
    assert figures["errors"] == 0
    assert figures["reads_per_s"] > 0 and figures["reads_per_s_no_audit"] > 0
    # One event per audited read (measured or warm-up), none for the baseline's reads.
    assert figures["audit_events_appended"] > 0
    assert set(figures) >= {"audit_overhead", "p50_ms", "p99_ms", "loadavg_before"}
    # The overhead is the median of each round's own ratio (both servers measured in it).
    (first, second) = figures["audit_overhead_rounds"]
    assert figures["audit_overhead"] == pytest.approx((first + second) / 2, abs=0.001)
