"""``oberih generate`` writes a population; ``oberih generate feeds`` the registers' feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
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


def _lines_that_are_json(directory: Path) -> tuple[int, int]:
    json_lines = total = 0
    for feed in directory.glob("*.jsonl"):
        if feed.name in {"truth.jsonl", "register.jsonl"}:
            continue
        for line in feed.read_text(encoding="utf-8").splitlines():
            total += 1
            try:
                json.loads(line)
            except ValueError:
                continue
            json_lines += 1
    return json_lines, total


@pytest.mark.parametrize(("rate", "all_json"), [("0", True), ("1", False)])
def test_generate_feeds_takes_fault_rates(tmp_path: Path, rate: str, all_json: bool) -> None:
    result = CliRunner().invoke(
        app,
        ["generate", "feeds", "--out", str(tmp_path), "--persons", "30", "--seed", "3",
         "--fault", f"malformed={rate}", "--fault", "conflicting=0"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    json_lines, total = _lines_that_are_json(tmp_path)
    assert total > 30
    assert json_lines == (total if all_json else 0)


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("typo=1.5", "the rate is a share from 0 to 1"),
        ("typo=nan", "the rate is a share from 0 to 1"),
        ("typo=often", "the rate is not a number"),
        ("typos=0.1", "expected FAULT=RATE"),
        ("typo", "expected FAULT=RATE"),
    ],
)
def test_a_wrong_fault_rate_is_a_usage_error_naming_it(
    tmp_path: Path, setting: str, says: str
) -> None:
    result = CliRunner().invoke(
        app, ["generate", "feeds", "--out", str(tmp_path), "--fault", setting]
    )
    assert result.exit_code == 2
    assert says in " ".join(result.output.replace("│", " ").split())
    assert not list(tmp_path.iterdir())  # nothing written
