"""The fold: current state, bitemporal questions, corrections, retractions, provenance."""

from __future__ import annotations

import datetime as dt
import uuid

from oberih.persons.facts import FactKind
from oberih.persons.state import fold
from tests.factories import address_payload, identity_payload, make_fact, utc

PERSON = uuid.uuid4()


def _address(settlement: str, seq: int, recorded: dt.datetime, valid_from: dt.date, **kw):  # type: ignore[no-untyped-def]
    return make_fact(
        FactKind.address,
        address_payload(settlement),
        person_id=PERSON,
        seq=seq,
        recorded_at=recorded,
        valid_from=valid_from,
        **kw,
    )


def test_identity_and_latest_address_make_the_current_state() -> None:
    identity = make_fact(
        FactKind.identity, identity_payload(), person_id=PERSON, seq=1, recorded_at=utc(2020, 1, 1)
    )
    lviv = _address("Lviv", 2, utc(2020, 1, 2), dt.date(2020, 1, 1))
    kyiv = _address("Kyiv", 3, utc(2023, 5, 2), dt.date(2023, 5, 1))
    state = fold(PERSON, [identity, lviv, kyiv])
    assert state.identity_field("surname") == "Ковальчук"
    assert state.registered_address is not None
    assert state.registered_address.data["settlement"] == "Kyiv"
    assert state.registered_address.fact_id == kyiv.id  # provenance
    assert state.identity is not None and state.identity.fact_id == identity.id
    assert state.version == 3


def test_state_as_of_a_world_date() -> None:
    lviv = _address("Lviv", 1, utc(2020, 1, 2), dt.date(2020, 1, 1))
    kyiv = _address("Kyiv", 2, utc(2023, 5, 2), dt.date(2023, 5, 1))
    state = fold(PERSON, [lviv, kyiv], valid_at=dt.date(2021, 6, 1))
    assert state.registered_address is not None
    assert state.registered_address.data["settlement"] == "Lviv"
    before_anything = fold(PERSON, [lviv, kyiv], valid_at=dt.date(2019, 1, 1))
    assert before_anything.registered_address is None


def test_late_arriving_fact_changes_the_past_only_from_when_it_was_known() -> None:
    lviv = _address("Lviv", 1, utc(2020, 1, 2), dt.date(2020, 1, 1))
    # Recorded in 2024, true since 2022: the register learned of the move late.
    odesa = _address("Odesa", 2, utc(2024, 5, 1), dt.date(2022, 3, 1))
    as_known_then = fold(
        PERSON, [lviv, odesa], valid_at=dt.date(2022, 6, 1), known_at=utc(2024, 1, 1)
    )
    as_known_now = fold(PERSON, [lviv, odesa], valid_at=dt.date(2022, 6, 1))
    assert as_known_then.registered_address is not None
    assert as_known_then.registered_address.data["settlement"] == "Lviv"
    assert as_known_now.registered_address is not None
    assert as_known_now.registered_address.data["settlement"] == "Odesa"
    assert as_known_then.version == 1


def test_correction_supersedes_the_corrected_fact() -> None:
    wrong = make_fact(
        FactKind.identity,
        identity_payload(birth_date="1990-03-15"),
        person_id=PERSON,
        seq=1,
        recorded_at=utc(2020, 1, 1),
    )
    corrected = make_fact(
        FactKind.identity,
        identity_payload(birth_date="1990-05-13"),
        person_id=PERSON,
        seq=2,
        recorded_at=utc(2024, 2, 1),
        supersedes_id=wrong.id,
    )
    assert fold(PERSON, [wrong, corrected]).identity_field("birth_date") == "1990-05-13"
    before = fold(PERSON, [wrong, corrected], known_at=utc(2023, 1, 1))
    assert before.identity_field("birth_date") == "1990-03-15"


def test_retraction_withdraws_a_fact_from_when_it_is_recorded() -> None:
    deferral = make_fact(
        FactKind.deferral,
        {"ground": "students"},
        person_id=PERSON,
        seq=1,
        recorded_at=utc(2024, 9, 1),
        valid_from=dt.date(2024, 9, 1),
        valid_to=dt.date(2025, 6, 30),
    )
    retraction = make_fact(
        FactKind.retraction,
        {"reason": "enrolment entered for the wrong person"},
        person_id=PERSON,
        seq=2,
        recorded_at=utc(2024, 10, 1),
        supersedes_id=deferral.id,
    )
    facts = [deferral, retraction]
    assert fold(PERSON, facts).deferrals == []
    assert [e.fact_id for e in fold(PERSON, facts, known_at=utc(2024, 9, 15)).deferrals] == [
        deferral.id
    ]
    # Interval kinds only count on the days they are true.
    assert (
        fold(PERSON, facts, valid_at=dt.date(2025, 7, 1), known_at=utc(2024, 9, 15)).deferrals == []
    )


def test_contact_fields_fold_one_by_one() -> None:
    phone = make_fact(
        FactKind.contact,
        {"phone": "+380501112233"},
        person_id=PERSON,
        seq=1,
        recorded_at=utc(2024, 1, 1),
    )
    email = make_fact(
        FactKind.contact,
        {"email": "x@example.org"},
        person_id=PERSON,
        seq=2,
        recorded_at=utc(2024, 2, 1),
    )
    state = fold(PERSON, [phone, email])
    assert state.phone is not None and state.phone.data == {"value": "+380501112233"}
    assert state.email is not None and state.email.fact_id == email.id


def test_fold_is_independent_of_input_order() -> None:
    facts = [
        _address("Lviv", 1, utc(2020, 1, 2), dt.date(2020, 1, 1)),
        _address("Kyiv", 2, utc(2023, 5, 2), dt.date(2023, 5, 1)),
        _address("Sumy", 3, utc(2023, 6, 2), dt.date(2021, 5, 1)),
    ]
    assert fold(PERSON, facts).to_json() == fold(PERSON, list(reversed(facts))).to_json()
