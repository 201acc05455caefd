"""Determinations: pure, stable, explained; the next change; the fingerprint."""

from __future__ import annotations

import datetime as dt

from oberih.rules.determination import Category, determine
from oberih.rules.situation import situation_from_json

FATHER = {
    "birth_date": "1985-05-01",
    "sex": "male",
    "registration": {"category": "liable", "composition": "private"},
    "family": [
        {"relation": "child", "birth_date": "2009-03-01"},
        {"relation": "child", "birth_date": "2011-07-20"},
        {"relation": "child", "birth_date": "2016-02-10"},
    ],
}


def test_the_same_inputs_give_the_same_determination() -> None:
    situation = situation_from_json(FATHER)
    first = determine(situation, dt.date(2026, 11, 1))
    second = determine(situation, dt.date(2026, 11, 1))
    assert first.to_json() == second.to_json()
    assert first.fingerprint() == second.fingerprint()


def test_the_fingerprint_does_not_move_from_day_to_day_until_the_answer_changes() -> None:
    situation = situation_from_json(FATHER)
    monday = determine(situation, dt.date(2026, 11, 2))
    friday = determine(situation, dt.date(2026, 11, 6))
    assert monday.to_json() != friday.to_json()
    assert monday.fingerprint() == friday.fingerprint()
    changed = determine(situation, monday.next_change)  # type: ignore[arg-type]
    assert changed.fingerprint() != monday.fingerprint()
    assert changed.mobilisable and not monday.mobilisable


def test_the_explanation_reads_base_rule_then_exceptions() -> None:
    determination = determine(situation_from_json(FATHER), dt.date(2026, 11, 1))
    category_steps = [s for s in determination.explanation if s.rule.startswith("category.")]
    assert category_steps[0].rule == "category.base"
    assert category_steps[0].overrides is None
    assert all(s.overrides for s in category_steps[1:])
    assert determination.category is Category.liable
    mobilisation = [s.rule for s in determination.explanation if s.rule.startswith("mobilisation.")]
    assert mobilisation == [
        "mobilisation.base",
        "mobilisation.liable_called_up",
        "mobilisation.deferral",
    ]


def test_every_step_cites_law_and_the_json_has_the_documented_keys() -> None:
    document = determine(situation_from_json(FATHER), dt.date(2026, 11, 1)).to_json()
    assert {"category", "mobilisable", "deferrals", "next_change", "explanation"} <= set(document)
    assert document["deferrals"][0].keys() >= {"ground", "from", "until"}
    for step in document["explanation"]:
        assert step["citation"]["act"]
        for parameter in step["parameters"]:
            assert parameter["citation"]["text"]["en"]


def test_a_change_of_law_that_does_not_matter_to_the_person_is_not_a_next_change() -> None:
    # A woman not on the register: the April and May 2024 changes do not touch her.
    situation = situation_from_json({"birth_date": "1990-01-01", "sex": "female"})
    assert determine(situation, dt.date(2024, 1, 1)).next_change is None


def test_the_document_is_valid_a_year_at_most_and_not_beyond_the_deferral_it_shows() -> None:
    plain = situation_from_json({**FATHER, "family": []})
    assert determine(plain, dt.date(2026, 11, 2)).document_valid_until == dt.date(2027, 11, 1)
    deferred = determine(situation_from_json(FATHER), dt.date(2026, 11, 2))
    assert deferred.document_valid_until == dt.date(2027, 2, 28)  # the deferral's last day
