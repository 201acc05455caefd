"""``oberih generate`` writes a population; ``oberih generate feeds`` the registers' feeds."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from oberih.cli import app
from oberih.population import read_jsonl


def test_generate_writes_a_deterministic_population(tmp_path: Path) -> None:
    args = ["generate", "--persons", "30", "--seed", "4", "--reference-date", "2026-11-01"]
    first = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a.jsonl")])
    second = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b.jsonl")])
    assert first.exit_code == second.exit_code == 0, first.output
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert len(list(read_jsonl(tmp_path / "a.jsonl"))) == 30


def test_generate_without_a_file_says_what_is_missing() -> None:
    result = CliRunner().invoke(app, ["generate", "--persons", "5"])
    assert result.exit_code != 0
    assert "--out" in result.output


def test_generate_feeds_writes_feeds_and_ground_truth(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["generate", "feeds", "--out", str(tmp_path), "--persons", "40", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "truth.jsonl").stat().st_size > 0
    assert (tmp_path / "register.jsonl").exists()
    assert any(p.name not in {"truth.jsonl", "register.jsonl"} for p in tmp_path.glob("*.jsonl"))
