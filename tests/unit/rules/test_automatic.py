"""Automatic deferrals: granted, extended and ended from evidence; idempotent on re-run."""

from __future__ import annotations

import datetime as dt
import uuid

from oberih.persons.facts import Fact, FactKind, NewFact
from oberih.rules.automatic import automatic_deferrals
from tests.unit.rules.factories import PersonFacts


def _append(person: PersonFacts, new: NewFact) -> Fact:
    """What storage does with a new fact (the journal is append-only)."""
    return person.add(
        new.kind,
        new.validated_payload(),
        valid_from=new.valid_from,
        valid_to=new.valid_to,
        source=new.source,
        source_record_id=new.source_record_id,
        supersedes_id=new.supersedes_id,
    )


def _student(person: PersonFacts, until: str = "2027-06-30") -> Fact:
    return person.add(
        FactKind.education,
        {"level": "bachelor", "form": "full_time", "institution_code": "42"},
        valid_from=dt.date(2024, 9, 1),
        valid_to=dt.date.fromisoformat(until),
        source="education",
    )


def test_a_ground_in_the_evidence_is_granted_once() -> None:
    person = PersonFacts(birth_date="1999-01-01").liable()
    _student(person)
    on = dt.date(2026, 11, 1)
    facts = automatic_deferrals(person.state(), on)
    assert len(facts) == 1
    grant = facts[0]
    assert grant.kind == FactKind.deferral and grant.payload == {"ground": "student"}
    # At most 12 months (register policy), within the evidence.
    assert (grant.valid_from, grant.valid_to) == (on, dt.date(2027, 6, 30))
    assert grant.source == "register"
    assert grant.source_record_id == f"auto-deferral:{person.person_id}:student:2026-11-01"
    assert grant.legal_basis.startswith("automatic under Law 3543-XII art. 23")
    _append(person, grant)
    assert automatic_deferrals(person.state(), on) == []  # idempotent
    assert automatic_deferrals(person.state(), dt.date(2027, 1, 15)) == []


def test_an_open_ended_ground_is_granted_for_twelve_months_then_extended() -> None:
    person = PersonFacts(birth_date="1980-01-01").liable()
    person.add(
        FactKind.disability, {"group": "II"}, valid_from=dt.date(2020, 1, 1), source="social"
    )
    grant = automatic_deferrals(person.state(), dt.date(2026, 1, 10))[0]
    assert grant.valid_to == dt.date(2027, 1, 9)
    _append(person, grant)
    assert automatic_deferrals(person.state(), dt.date(2026, 12, 1)) == []  # not due yet
    extension = automatic_deferrals(person.state(), dt.date(2026, 12, 20))
    assert [(f.valid_from, f.valid_to) for f in extension] == [
        (dt.date(2027, 1, 10), dt.date(2028, 1, 9))
    ]
    _append(person, extension[0])
    assert automatic_deferrals(person.state(), dt.date(2026, 12, 21)) == []


def test_an_automatic_deferral_ends_when_its_evidence_lapses() -> None:
    person = PersonFacts(birth_date="1999-01-01").liable()
    study = _student(person)
    grant = automatic_deferrals(person.state(), dt.date(2026, 11, 1))[0]
    stored = _append(person, grant)
    # The education register reports that the studies ended early, on 31.12.2026.
    person.add(
        FactKind.education,
        {"level": "bachelor", "form": "full_time", "institution_code": "42"},
        valid_from=dt.date(2024, 9, 1),
        valid_to=dt.date(2026, 12, 31),
        source="education",
        supersedes_id=study.id,
    )
    ending = automatic_deferrals(person.state(), dt.date(2027, 1, 5))
    assert len(ending) == 1
    end = ending[0]
    assert end.supersedes_id == stored.id
    assert (end.valid_from, end.valid_to) == (dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    assert end.legal_basis.endswith("evidence lapsed")
    _append(person, end)
    assert automatic_deferrals(person.state(), dt.date(2027, 1, 5)) == []


def test_a_deferral_decided_by_an_office_is_never_ended_automatically() -> None:
    person = PersonFacts(birth_date="1999-01-01").liable()
    person.add(
        FactKind.deferral,
        {"ground": "student"},
        valid_from=dt.date(2026, 9, 1),
        valid_to=dt.date(2027, 8, 31),
        source="officer",
    )
    assert automatic_deferrals(person.state(), dt.date(2026, 11, 1)) == []


def test_grounds_that_need_an_application_are_not_granted_automatically() -> None:
    person = PersonFacts(birth_date="1988-01-01").liable()
    person.child("2015-06-30", alone=True)
    assert automatic_deferrals(person.state(), dt.date(2026, 11, 1)) == []


def test_only_persons_liable_for_service_get_deferrals() -> None:
    person = PersonFacts(birth_date="2008-01-01")  # a conscript
    _student(person)
    assert automatic_deferrals(person.state(), dt.date(2026, 11, 1)) == []


def test_record_ids_are_deterministic() -> None:
    person = PersonFacts(birth_date="1999-01-01").liable()
    _student(person)
    state = person.state()
    first = automatic_deferrals(state, dt.date(2026, 11, 1))
    second = automatic_deferrals(state, dt.date(2026, 11, 1))
    assert first == second
    assert uuid.UUID(str(person.person_id))
