"""The match benchmark end to end on a small population (SQLite; the figures are checked in
the benchmark, here only that they are computed and sane)."""

from __future__ import annotations

from oberih.exchange.bench import run_match_benchmark
from oberih.exchange.feeds import FaultRates


def test_match_benchmark_reports_precision_recall_and_review_share() -> None:
    result = run_match_benchmark(persons=80, seed=3)
    assert result["precision"] >= 0.99
    assert result["recall"] >= 0.95
    assert 0 <= result["review_share"] <= 0.2
    assert result["new_persons"] == result["held_out_persons"]
    assert result["duplicate_persons"] == 0
    assert "typo" in result["per_fault"]


def test_match_benchmark_runs_at_the_rates_given_and_says_them() -> None:
    rates = FaultRates().with_rates(["typo=0", "transliteration=0", "malformed=0.2"])
    result = run_match_benchmark(persons=40, seed=3, rates=rates)
    assert result["fault_rates"]["typo"] == 0 and result["fault_rates"]["malformed"] == 0.2
    assert "typo" not in result["per_fault"]
    malformed = result["per_fault"]["malformed"]
    assert set(malformed) == {"quarantined"} and malformed["quarantined"] > 0  # every one
