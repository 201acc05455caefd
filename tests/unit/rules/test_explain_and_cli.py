"""The plain-language explanation and the ``oberih rules`` commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oberih.rules.cli import app
from oberih.rules.determination import determine
from oberih.rules.explain import explain
from oberih.rules.situation import situation_from_json

SUITE = Path(__file__).resolve().parents[2] / "scenarios"
STUDENT = {
    "birth_date": "2001-04-04",
    "sex": "male",
    "registration": {"category": "liable", "composition": "private"},
    "education": [
        {
            "level": "bachelor",
            "form": "full_time",
            "valid_from": "2024-09-01",
            "valid_to": "2028-06-30",
            "fact": {"fact_id": "edu-9", "source": "education"},
        }
    ],
}
runner = CliRunner()


def test_the_explanation_reads_in_ukrainian_and_english() -> None:
    determination = determine(situation_from_json(STUDENT), dt.date(2026, 11, 1))
    ukrainian = explain(determination, language="uk")
    english = explain(determination, language="en")
    assert ukrainian.startswith("Станом на 01.11.2026: військовозобов'язаний.")
    assert "Здобувач освіти денної або дуальної форми" in ukrainian
    assert "edu-9 (джерело: education)" in ukrainian
    assert english.startswith("On 2026-11-01: liable for military service.")
    assert "May not be called up during mobilisation (because: deferral)." in english
    assert "Law 3543-XII art. 23 part 3" in english
    with pytest.raises(ValueError, match="language"):
        explain(determination, language="fr")


def test_evaluate_reads_a_situation_and_prints_the_determination() -> None:
    result = runner.invoke(app, ["evaluate", "--on", "2026-11-01"], input=json.dumps(STUDENT))
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["category"] == "liable"
    assert document["mobilisable"] is False
    assert document["deferrals"][0]["ground"] == "student"


def test_evaluate_takes_an_envelope_with_the_day_and_prints_text(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"on": "2026-11-01", "situation": STUDENT}))
    result = runner.invoke(app, ["evaluate", str(request), "--text", "en"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("On 2026-11-01:")


def test_evaluate_reports_invalid_situations_field_by_field() -> None:
    result = runner.invoke(app, ["evaluate"], input=json.dumps({"birth_date": "x", "sex": "male"}))
    assert result.exit_code == 2
    assert "situation.birth_date" in result.output


def test_schema_prints_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "SituationDocument"


def test_test_runs_the_suite_and_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    passing = runner.invoke(app, ["test", str(SUITE)])
    assert passing.exit_code == 0, passing.output
    assert " 0 failed" in passing.output
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "- name: wrong\n  date: 2026-11-01\n"
        "  situation: {birth_date: 1990-01-01, sex: male}\n"
        "  expected: {category: conscript}\n"
    )
    failing = runner.invoke(app, ["test", str(wrong)])
    assert failing.exit_code == 1
    assert "category: different value (expected 'conscript', got 'liable')" in failing.output


def test_test_rejects_a_malformed_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("- name: no day\n  situation: {}\n  expected: {}\n")
    result = runner.invoke(app, ["test", str(broken)])
    assert result.exit_code == 2
    assert "missing date" in result.output


def test_profile_lists_values_with_citations() -> None:
    result = runner.invoke(app, ["profile", "--on", "2024-04-04"])
    assert result.exit_code == 0
    assert "conscript.age_limit from 2024-04-04: 25" in result.output
