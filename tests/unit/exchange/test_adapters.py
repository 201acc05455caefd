"""Message schemas and adapters: each source's messages become facts with world time."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from pydantic import ValidationError

from oberih.exchange.adapters import adapt, with_identity
from oberih.exchange.messages import SOURCE_MESSAGES, Source, message_schema, parse_message
from oberih.persons.facts import FactKind, InvalidFact

SUBJECT = {"surname": "Коваленко", "given_name": "Петро", "birth_date": "1990-03-15", "sex": "male"}


def message(message_type: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "source_record_id": "r-1",
        "recorded_at": "2026-11-01T10:00:00Z",
        "subject": SUBJECT,
        "message_type": message_type,
        "payload": payload,
        **extra,
    }


CASES = [
    (Source.civil_status, "birth", {"surname": "Коваленко", "given_name": "Петро",
     "birth_date": "1990-03-15", "sex": "male"}, FactKind.identity, "1990-03-15"),
    (Source.civil_status, "death", {"date_of_death": "2026-10-01"}, FactKind.death, "2026-10-01"),
    (Source.civil_status, "name_change", {"surname": "Шевчук", "given_name": "Петро",
     "effective_on": "2020-01-02"}, FactKind.identity, "2020-01-02"),
    (Source.civil_status, "marriage", {"spouse_name": "Ольга Коваленко",
     "married_on": "2015-06-06"}, FactKind.family, "2015-06-06"),
    (Source.civil_status, "paternity", {"child_name": "Іван Коваленко",
     "child_birth_date": "2019-01-01", "established_on": "2019-02-01"}, FactKind.family,
     "2019-02-01"),
    (Source.demographic, "unzr_assigned", {"unzr": "19900315-00019",
     "assigned_on": "2016-01-01"}, FactKind.identifier, "2016-01-01"),
    (Source.demographic, "document_invalidated", {"document_kind": "id_card",
     "number": "000000017", "on": "2024-01-01"}, FactKind.identifier, "2024-01-01"),
    (Source.demographic, "registered_address", {"region": "UA80", "hromada": "Київ",
     "settlement": "м. Київ", "registered_on": "2020-05-05"}, FactKind.address, "2020-05-05"),
    (Source.tax, "rnokpp_assigned", {"rnokpp": "3294600038", "assigned_on": "2008-01-01"},
     FactKind.identifier, "2008-01-01"),
    (Source.tax, "employment_ended", {"employer_code": "00000017", "started_on": "2020-01-01",
     "ended_on": "2026-09-30", "start_record_id": "r-0"}, FactKind.employment, "2020-01-01"),
    (Source.education, "enrolment", {"level": "bachelor", "form": "full_time",
     "institution_code": "233", "enrolled_on": "2024-09-01"}, FactKind.education, "2024-09-01"),
    (Source.health, "fitness_decision", {"fitness": "fit", "decision_date": "2025-02-02"},
     FactKind.medical_decision, "2025-02-02"),
    (Source.border, "exit", {"crossed_on": "2025-03-03", "country": "POL"},
     FactKind.border_crossing, "2025-03-03"),
    (Source.social, "disability_group", {"group": "II", "established_on": "2022-01-01"},
     FactKind.disability, "2022-01-01"),
    (Source.social, "caregiver", {"relation": "parent", "since": "2023-01-01"},
     FactKind.family, "2023-01-01"),
    (Source.employer, "reservation", {"employer_code": "00000017",
     "reserved_from": "2025-01-01"}, FactKind.reservation, "2025-01-01"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "message_type", "payload", "kind", "valid_from"), CASES)
def test_each_message_becomes_a_valid_fact_with_world_time(
    source: Source, message_type: str, payload: dict[str, Any], kind: FactKind, valid_from: str
) -> None:
    parsed = parse_message(source, message(message_type, payload))
    adapted = adapt(source.value, parsed)
    [item] = adapted.facts
    assert item.fact.kind == kind
    assert item.fact.valid_from == dt.date.fromisoformat(valid_from)
    assert item.fact.source == source.value
    assert item.fact.source_record_id == "r-1"
    # The payload passes the journal's own schema (a name change's once intake completes it).
    with_identity(item, HELD).validated_payload()
    assert adapted.creates_person == (message_type == "birth")


HELD = {"surname": "Коваленко", "given_name": "Петро", "birth_date": "1990-03-15",
        "birth_place": "м. Суми", "sex": "male", "citizenship": "POL"}  # fmt: skip


def test_a_name_change_states_the_names_and_keeps_the_rest_of_the_identity() -> None:
    # The subject lacks the birth date and sex: the facts are not taken from it.
    change = message("name_change", {"surname": "Шевчук", "given_name": "Петро",
                     "effective_on": "2020-01-02"}, subject={"surname": "Коваленко"})  # fmt: skip
    [item] = adapt("civil_status", parse_message(Source.civil_status, change)).facts
    assert item.names_only
    assert item.fact.payload == {"surname": "Шевчук", "given_name": "Петро"}
    completed = with_identity(item, HELD)
    assert completed.validated_payload() == HELD | {"surname": "Шевчук"}
    with pytest.raises(InvalidFact, match="without an identity"):
        with_identity(item, None)


def test_an_ending_names_the_record_it_ends() -> None:
    payload = {"employer_code": "00000017", "started_on": "2020-01-01",
               "ended_on": "2026-09-30", "start_record_id": "r-0"}  # fmt: skip
    parsed = parse_message(Source.tax, message("employment_ended", payload))
    [item] = adapt("tax", parsed).facts
    assert item.supersedes_record_id == "r-0"
    assert item.fact.valid_to == dt.date(2026, 9, 30)


def test_a_message_of_another_source_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_message(Source.tax, message("death", {"date_of_death": "2026-10-01"}))


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        parse_message(Source.health, message("fitness_decision", {"fitness": "fit",
                      "decision_date": "2025-02-02", "diagnosis": "x"}))  # fmt: skip


@pytest.mark.parametrize("source", list(Source))
def test_every_source_publishes_a_json_schema(source: Source) -> None:
    schema = message_schema(source)
    assert schema["$id"].endswith(f"/{source.value}/v1")
    assert "source_record_id" in str(schema)


@pytest.mark.parametrize("source", list(Source))
def test_every_schema_asks_for_the_utc_offset_of_recorded_at(source: Source) -> None:
    # "format": "date-time" alone: many validators do not check formats.
    schema = message_schema(source)
    members = [schema, *schema.get("$defs", {}).values()]
    fields = [
        m["properties"]["recorded_at"] for m in members if "message_type" in m.get("properties", {})
    ]
    assert len(fields) == len(SOURCE_MESSAGES[source])  # one per message type
    for field in fields:
        assert field["format"] == "date-time" and "UTC offset" in field["description"]
        assert re.search(field["pattern"], "2026-11-01T10:00:00+02:00")
        assert re.search(field["pattern"], "2026-11-01T08:00:00Z")
        assert not re.search(field["pattern"], "2026-11-01T10:00:00")


@pytest.mark.parametrize("recorded_at", ["2026-11-01T10:00:00", "2026-11-01 10:00", "2026-11-01"])
def test_a_recorded_at_without_its_utc_offset_is_refused(recorded_at: str) -> None:
    crossing = message("exit", {"crossed_on": "2026-10-01"}, recorded_at=recorded_at)
    with pytest.raises(ValidationError) as refused:
        parse_message(Source.border, crossing)
    [error] = refused.value.errors()
    assert (error["loc"], error["type"]) == (("recorded_at",), "timezone_aware")


def test_a_recorded_at_with_its_offset_is_that_moment() -> None:
    crossing = message("exit", {"crossed_on": "2026-10-01"}, recorded_at="2026-11-01T10:00+02:00")
    parsed = parse_message(Source.border, crossing)
    assert parsed.recorded_at == dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("source", "message_type", "payload"),
    [
        (Source.civil_status, "death", {"date_of_death": "2027-10-20"}),
        (Source.health, "fitness_decision", {"fitness": "unfit_excluded",
         "decision_date": "2031-01-01"}),
        (Source.border, "exit", {"crossed_on": "2030-01-01"}),
    ],
)  # fmt: skip
def test_an_act_dated_after_the_source_recorded_it_is_refused(
    source: Source, message_type: str, payload: dict[str, Any]
) -> None:
    # Recorded on 2026-11-01: a death, a decision or a crossing cannot be later than that.
    with pytest.raises(ValidationError, match="later than the day of recorded_at"):
        parse_message(source, message(message_type, payload))


def test_plans_and_the_source_days_grace_may_be_ahead_of_recorded_at() -> None:
    late_evening = message("death", {"date_of_death": "2026-11-02"})  # UTC behind Kyiv
    parse_message(Source.civil_status, late_evening)
    enrolment = {"level": "bachelor", "form": "full_time", "institution_code": "233",
                 "enrolled_on": "2027-09-01"}  # fmt: skip
    parse_message(Source.education, message("enrolment", enrolment))
