"""Every generated fact is complete, canonical and consistent in time."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from oberih.persons.facts import FactKind, NewFact, SourceKind, validate_payload
from oberih.population import GeneratedPerson

from .conftest import REFERENCE_DATE

# The source register of each kind of fact (the brief's mapping; registration may also be
# entered by an officer, contacts come from the citizen, IDP addresses from social policy).
EXPECTED_SOURCES = {
    "identity": {"civil_status"},
    "death": {"civil_status"},
    "family": {"civil_status", "social", "register"},  # register: a defender killed or missing
    "identifier": {"demographic", "tax"},
    "address": {"demographic", "social"},
    "contact": {"citizen"},
    "education": {"education"},
    "employment": {"tax"},
    "reservation": {"employer"},
    "disability": {"social"},
    "medical_decision": {"health"},
    "military_registration": {"register", "officer"},
    "service": {"register"},
    "deferral": {"register", "officer"},
    "border_crossing": {"border"},
}


def test_every_payload_is_already_in_canonical_form(people: list[GeneratedPerson]) -> None:
    checked = 0
    for person in people:
        for fact in person.facts:
            assert validate_payload(fact.kind, fact.payload) == fact.payload, fact
            checked += 1
    assert checked > 50_000


def test_facts_are_complete_and_in_recorded_order(people: list[GeneratedPerson]) -> None:
    sources = {kind.value for kind in SourceKind}
    for person in people:
        assert person.facts[0].kind == FactKind.identity
        assert person.created_at == person.facts[0].recorded_at
        for seq, fact in enumerate(person.facts, start=1):
            assert fact.person_id == person.person_id
            assert fact.seq == seq
            assert fact.source in sources
            assert fact.source in EXPECTED_SOURCES[fact.kind], (fact.kind, fact.source)
            assert fact.legal_basis and fact.actor == "system:generator"
            assert fact.recorded_at.tzinfo is not None
            assert fact.recorded_at.utcoffset() == dt.timedelta(0)
        recorded = [fact.recorded_at for fact in person.facts]
        assert recorded == sorted(recorded) and len(set(recorded)) == len(recorded)


def test_world_and_register_times_are_consistent(people: list[GeneratedPerson]) -> None:
    reference_start = dt.datetime.combine(REFERENCE_DATE, dt.time(), dt.UTC)
    late = 0
    for person in people:
        for fact in person.facts:
            assert fact.valid_from is not None and fact.valid_from < REFERENCE_DATE
            assert fact.recorded_at < reference_start
            assert fact.recorded_at.date() >= fact.valid_from
            assert fact.valid_to is None or fact.valid_to >= fact.valid_from
            if (
                fact.recorded_at.date() - fact.valid_from
            ).days > 30 and fact.valid_from.year >= 2023:
                late += 1
    assert late > 0  # some records arrive late, as real feeds do


def test_ids_and_source_record_ids_are_unique(people: list[GeneratedPerson]) -> None:
    person_ids = [person.person_id for person in people]
    assert len(set(person_ids)) == len(person_ids)
    fact_ids = [fact.id for person in people for fact in person.facts]
    assert len(set(fact_ids)) == len(fact_ids)
    assert all(fact_id.version == 4 for fact_id in fact_ids[:1000])
    record_ids = Counter((f.source, f.source_record_id) for p in people for f in p.facts)
    assert max(record_ids.values()) == 1


def test_facts_can_be_restated_as_new_facts(people: list[GeneratedPerson]) -> None:
    for person in people[:500]:
        for fact in person.facts:
            new = NewFact(
                kind=fact.kind,
                payload=fact.payload,
                valid_from=fact.valid_from,
                valid_to=fact.valid_to,
                source=fact.source,
                source_record_id=fact.source_record_id,
                legal_basis=fact.legal_basis,
                actor=fact.actor,
            )
            assert new.same_content_as(fact)


def test_every_fact_kind_but_retraction_occurs(people: list[GeneratedPerson]) -> None:
    kinds = {fact.kind for person in people for fact in person.facts}
    assert kinds == {kind.value for kind in FactKind} - {"retraction"}
