"""The match benchmark end to end on a small population (SQLite; the figures are checked in
the benchmark, here only that they are computed and sane)."""

from __future__ import annotations

from oberih.exchange.bench import run_match_benchmark


def test_match_benchmark_reports_precision_recall_and_review_share() -> None:
    result = run_match_benchmark(persons=80, seed=3)
    assert result["precision"] >= 0.99
    assert result["recall"] >= 0.95
    assert 0 <= result["review_share"] <= 0.2
    assert result["new_persons"] == result["held_out_persons"]
    assert result["duplicate_persons"] == 0
    assert "typo" in result["per_fault"]
