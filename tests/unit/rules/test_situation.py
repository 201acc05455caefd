"""One code path: stored persons and what-if situations give the same situation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from oberih.persons.facts import FactKind
from oberih.rules.determination import determine
from oberih.rules.situation import (
    EvaluationRequest,
    situation_from_document,
    situation_from_json,
    situation_from_state,
    situation_from_state_json,
    situation_schema,
)
from tests.unit.rules.factories import PersonFacts


def _person() -> PersonFacts:
    person = PersonFacts(birth_date="1986-05-05").liable()
    person.child("2012-02-02")
    person.child("2014-03-03", alimony_debt_over_three_months=True)
    person.add(
        FactKind.education,
        {"level": "master", "form": "full_time", "institution_code": "123"},
        valid_from=dt.date(2025, 9, 1),
        valid_to=dt.date(2027, 6, 30),
        source="education",
    )
    person.add(
        FactKind.employment,
        {"employer_code": "12345678", "teaching_or_research": True, "share_of_full_time": 0.8},
        valid_from=dt.date(2020, 1, 1),
        source="tax",
    )
    person.add(
        FactKind.disability, {"group": "III"}, valid_from=dt.date(2024, 1, 1), source="social"
    )
    person.add(
        FactKind.medical_decision,
        {"fitness": "fit_support", "decision_date": "2025-10-10"},
        valid_from=dt.date(2025, 10, 10),
        source="health",
    )
    person.add(
        FactKind.deferral,
        {"ground": "student"},
        valid_from=dt.date(2025, 9, 1),
        valid_to=dt.date(2026, 8, 31),
        source="register",
        source_record_id="auto-deferral:x",
    )
    person.add(
        FactKind.reservation,
        {"employer_code": "12345678"},
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2026, 12, 31),
        source="employer",
    )
    person.add(
        FactKind.service,
        {"service_kind": "contract", "captivity_released_on": "2019-05-05"},
        valid_from=dt.date(2018, 1, 1),
        valid_to=dt.date(2019, 6, 1),
        source="officer",
    )
    return person


def test_the_state_and_its_stored_json_give_the_same_situation() -> None:
    state = _person().state()
    from_state = situation_from_state(state)
    stored = json.loads(json.dumps(state.to_json()))  # as the projection keeps it
    assert situation_from_state_json(stored) == from_state
    assert from_state.family[1].alimony_debt is True
    assert from_state.deferrals[0].source_record_id == "auto-deferral:x"
    assert from_state.service[0].captivity_released_on == dt.date(2019, 5, 5)


def test_explanations_name_facts_by_id_and_source_register() -> None:
    person = _person()
    determination = determine(situation_from_state(person.state()), dt.date(2026, 11, 1))
    used = {(f.fact_id, f.source) for step in determination.explanation for f in step.facts}
    education = next(f for f in person.facts if f.kind == "education")
    assert (str(education.id), "education") in used
    identity = person.facts[0]
    assert (str(identity.id), "demographic") in used


def test_a_what_if_situation_is_validated_with_reasons() -> None:
    with pytest.raises(ValidationError) as caught:
        situation_from_json({"birth_date": "1990-01-01", "sex": "x", "surprise": 1})
    fields = {err["loc"][0] for err in caught.value.errors()}
    assert fields == {"sex", "surprise"}


def test_what_if_items_without_fact_ids_are_named_by_their_place() -> None:
    situation = situation_from_json(
        {
            "birth_date": "1990-01-01",
            "sex": "male",
            "family": [{"relation": "child", "birth_date": "2020-01-01"}],
        }
    )
    assert situation.family[0].ref.fact_id == "situation:family[0]"
    assert situation.family[0].birth_date == dt.date(2020, 1, 1)


def test_the_schema_is_published_as_json_schema() -> None:
    schema = situation_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"birth_date", "sex"} <= set(schema["required"])
    assert "family" in schema["properties"]


def test_an_evaluation_request_carries_the_day_and_the_situation() -> None:
    request = EvaluationRequest.model_validate(
        {"on": "2026-11-01", "situation": {"birth_date": "1990-01-01", "sex": "male"}}
    )
    determination = determine(situation_from_document(request.situation), request.on)
    assert determination.to_json()["category"] == "liable"
