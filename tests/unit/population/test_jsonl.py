"""JSON Lines files hold persons exactly, plain or gzip-compressed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from oberih.population import generate_population, read_jsonl, write_jsonl
from oberih.population.cli import generate_command


@pytest.mark.parametrize("name", ["people.jsonl", "people.jsonl.gz"])
def test_round_trip_is_exact(tmp_path: Path, name: str) -> None:
    people = list(generate_population(persons=400, seed=8, reference_date=dt.date(2025, 3, 1)))
    path = tmp_path / name
    assert write_jsonl(people, path) == 400
    assert list(read_jsonl(path)) == people


def test_gzip_files_are_reproducible(tmp_path: Path) -> None:
    for name in ("a.jsonl.gz", "b.jsonl.gz"):
        write_jsonl(
            generate_population(persons=50, seed=8, reference_date=dt.date(2025, 3, 1)),
            tmp_path / name,
        )
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_lines_are_readable_json_in_utf8(tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    write_jsonl(generate_population(persons=5, seed=8, reference_date=dt.date(2025, 3, 1)), path)
    text = path.read_text(encoding="utf-8")
    assert '"kind":"identity"' in text
    assert "\\u04" not in text  # Cyrillic written as UTF-8, not escaped


def test_generate_command_writes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    assert generate_command(1_200, 4, path, dt.date(2025, 11, 1)) == 1_200
    assert sum(1 for _ in read_jsonl(path)) == 1_200
