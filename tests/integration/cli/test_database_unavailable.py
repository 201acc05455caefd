"""A command whose database cannot be reached (or whose file cannot be written) says so on one
line and exits 69 (EX_UNAVAILABLE) or 74 (EX_IOERR), as an operator (or the script that runs it
at 3 a.m.) needs: no traceback, no statement."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from oberih.cli import EXIT_DATABASE_UNAVAILABLE, EXIT_FILE_ERROR


def _oberih(*arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "OBERIH_ENV": "development"}
    return subprocess.run(
        [sys.executable, "-m", "oberih", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (("db", "upgrade"), 'database "oberih_no_such_database" does not exist'),
        (("audit", "verify"), 'database "oberih_no_such_database" does not exist'),
    ],
)
def test_a_missing_postgresql_database_is_named_in_one_line(
    arguments: tuple[str, ...], reason: str
) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/oberih_no_such_database"
    finished = _oberih(*arguments, "--database-url", url)
    assert finished.returncode == EXIT_DATABASE_UNAVAILABLE
    assert finished.stderr.startswith("oberih: database unavailable: ")
    assert reason in finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1
    assert "Traceback" not in finished.stderr + finished.stdout


def test_an_sqlite_file_that_cannot_be_opened_is_reported_the_same_way(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-directory' / 'oberih.db'}"
    finished = _oberih("db", "upgrade", "--database-url", url)
    assert finished.returncode == EXIT_DATABASE_UNAVAILABLE
    assert finished.stderr.strip() == "oberih: database unavailable: unable to open database file"


def test_a_file_that_cannot_be_written_is_named_in_one_line(tmp_path: Path) -> None:
    # Not a database problem but the same need: the path and the reason, exit 74 (EX_IOERR).
    out = tmp_path / "no-such-directory" / "population.jsonl"
    finished = _oberih("generate", "--out", str(out), "--persons", "3")
    assert finished.returncode == EXIT_FILE_ERROR
    assert finished.stderr.strip().splitlines()[-1] == f"oberih: {out}: No such file or directory"
    assert "Traceback" not in finished.stderr + finished.stdout
