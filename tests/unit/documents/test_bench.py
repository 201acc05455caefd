"""``oberih bench doc`` runs and reports its figures (tiny sizes: a smoke test, not a timing)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from oberih.cli.app import app


def test_bench_doc_prints_the_three_rates() -> None:
    result = CliRunner().invoke(app, ["bench", "doc", "--documents", "10", "--seconds", "0.3"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["issue_per_s"] > 0 and figures["verify_per_s"] > 0
    assert figures["raw_verify_per_s"] > figures["verify_per_s"] * 0.5
