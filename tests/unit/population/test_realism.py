"""The population looks like Ukraine's: proportions, names, identifiers, families, the register."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from uuid import UUID

from oberih.identifiers import parse_document_number, parse_rnokpp, parse_unzr
from oberih.names import feminine_surname, patronymic_from
from oberih.persons.state import PersonState
from oberih.population import DEFERRAL_GROUNDS, GeneratedPerson, recruitment_offices
from oberih.population.places import region_codes

from .conftest import REFERENCE_DATE


def _age(state: PersonState) -> int:
    born = dt.date.fromisoformat(state.identity_field("birth_date"))
    on = state.date_of_death or REFERENCE_DATE
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _share(count: int, total: int) -> float:
    return count / total


def test_age_and_sex_structure(states: dict[UUID, PersonState]) -> None:
    ages = [_age(state) for state in states.values()]
    total = len(ages)
    assert 0.14 < _share(sum(a < 18 for a in ages), total) < 0.24  # ukrstat: about 18 %
    assert 0.07 < _share(sum(a >= 70 for a in ages), total) < 0.14
    assert max(ages) >= 90 and min(ages) == 0
    women = sum(state.identity_field("sex") == "female" for state in states.values())
    assert 0.5 < _share(women, total) < 0.56
    # The 1990s birth dip: fewer people aged 25-29 than 35-39.
    assert sum(25 <= a <= 29 for a in ages) < 0.85 * sum(35 <= a <= 39 for a in ages)


def test_every_region_is_populated_by_weight(states: dict[UUID, PersonState]) -> None:
    regions = Counter(state.region for state in states.values())
    assert set(regions) == set(region_codes())
    assert regions["UA80"] > regions["UA07"] > regions["UA85"]


def test_addresses_name_real_offices(states: dict[UUID, PersonState]) -> None:
    offices = {office.code for office in recruitment_offices()}
    for state in states.values():
        assert state.registered_address is not None
        assert state.registered_address.data["office_code"] in offices
        assert state.office_code in offices


def test_names_are_gendered(states: dict[UUID, PersonState]) -> None:
    women_skyi = 0
    for state in states.values():
        surname = state.identity_field("surname")
        patronymic = state.identity_field("patronymic")
        if state.identity_field("sex") == "female":
            assert not surname.endswith("ський")
            assert patronymic.endswith("івна") or patronymic.endswith("ївна")
            women_skyi += surname.endswith("ська")
        else:
            assert patronymic.endswith(("ич", "іч"))  # Ілліч
    assert women_skyi > 0
    surnames = Counter(state.identity_field("surname") for state in states.values())
    assert surnames.most_common(1)[0][1] < 0.02 * len(states)  # no surname dominates
    assert any("'" in name for name in surnames)


def test_children_take_their_fathers_name(
    people: list[GeneratedPerson], states: dict[UUID, PersonState]
) -> None:
    checked = 0
    for state in states.values():
        for entry in state.family:
            if entry.data["relation"] != "parent" or entry.data["relative_sex"] != "male":
                continue
            if "relative_id" not in entry.data:
                continue  # a parent outside the population (evidence of a deferral ground)
            father = states[UUID(entry.data["relative_id"])]
            sex = state.identity_field("sex")
            expected = patronymic_from(father.identity_field("given_name"), sex)
            assert state.identity_field("patronymic") == expected
            family_name = father.identity_field("surname")
            expected_surname = family_name if sex == "male" else feminine_surname(family_name)
            assert state.identity_field("surname") == expected_surname
            checked += 1
    assert checked > 500


def test_identifiers_are_valid_unique_and_match_the_identity(
    states: dict[UUID, PersonState],
) -> None:
    seen: set[tuple[str, str]] = set()
    for state in states.values():
        born = dt.date.fromisoformat(state.identity_field("birth_date"))
        values = {(e.data["identifier_kind"], e.data["value"]) for e in state.identifiers}
        assert not values & seen
        seen |= values
        for kind, value in values:
            if kind == "rnokpp":
                parsed = parse_rnokpp(value)
                assert parsed.birth_date == born
                assert parsed.sex == state.identity_field("sex")
            elif kind == "unzr":
                assert parse_unzr(value).birth_date == born
            else:
                assert parse_document_number(value).kind == kind
    kinds = Counter(kind for kind, _ in seen)
    assert kinds["rnokpp"] > 0.85 * len(states)
    assert {"unzr", "id_card", "passport_booklet", "foreign_passport"} <= set(kinds)


def test_adults_mostly_have_a_taxpayer_number(states: dict[UUID, PersonState]) -> None:
    adults = [
        s for s in states.values() if _age(s) >= 18 and s.identity_field("citizenship") == "UKR"
    ]
    without = sum(s.active_identifier("rnokpp") is None for s in adults)
    assert 0 < without < 0.02 * len(adults)  # religious refusals only


def test_family_links_point_both_ways(states: dict[UUID, PersonState]) -> None:
    links = 0
    for person_id, state in states.items():
        for entry in state.family:
            relative_id = entry.data.get("relative_id")
            if relative_id is None:
                continue
            relative = states[UUID(relative_id)]
            back = {
                "spouse": "spouse",
                "child": "parent",
                "parent": "child",
            }.get(entry.data["relation"])
            if back is not None:
                assert any(
                    e.data.get("relative_id") == str(person_id) and e.data["relation"] == back
                    for e in relative.family
                )
                links += 1
            assert entry.data["relative_birth_date"] == relative.identity_field("birth_date")
    assert links > 3_000


def test_children_are_born_to_parents_of_plausible_age(states: dict[UUID, PersonState]) -> None:
    many_children = single_parents = disabled_children = 0
    for state in states.values():
        born = dt.date.fromisoformat(state.identity_field("birth_date"))
        children = [e for e in state.family if e.data["relation"] == "child"]
        for child in children:
            gap = (dt.date.fromisoformat(child.data["relative_birth_date"]) - born).days / 365.25
            assert 15 < gap < 60
        minors = [
            c
            for c in children
            if (REFERENCE_DATE - dt.date.fromisoformat(c.data["relative_birth_date"])).days
            < 18 * 365
        ]
        many_children += len(minors) >= 3
        single_parents += any(c.data["alone"] for c in minors)
        disabled_children += any(c.data.get("relative_disability_group") == "child" for c in minors)
    assert many_children > 20 and single_parents > 20 and disabled_children > 10


def test_military_registration_follows_age_and_sex(states: dict[UUID, PersonState]) -> None:
    categories: Counter[str] = Counter()
    for state in states.values():
        registration = state.military_registration
        if registration is None:
            continue
        category = registration.data["category"]
        categories[category] += 1
        age = _age(state)
        assert registration.data["office_code"].startswith("TCC-UA")
        if state.identity_field("sex") == "female":
            assert category == "liable"  # medical professions only
            assert any(
                e.data["position"] in ("лікар", "медична сестра", "фармацевт", "фельдшер")
                for e in state.employment
            )
        elif category == "conscript":
            assert 16 <= age <= 26
        elif category in ("liable", "reservist"):
            assert 18 <= age <= 60
        elif category == "removed" and registration.data["removal_reason"] == "age":
            assert age >= 60
        elif category == "removed":
            assert registration.data["removal_reason"] == "death" and state.death is not None
    assert {"conscript", "liable", "reservist", "removed", "excluded", "not_registered"} <= set(
        categories
    )


def test_deferrals_reservations_and_service(states: dict[UUID, PersonState]) -> None:
    grounds = Counter(d.data["ground"] for s in states.values() for d in s.deferrals)
    assert set(grounds) <= set(DEFERRAL_GROUNDS)
    assert {"disability", "three_children", "teaching_research_staff", "student"} <= set(grounds)
    for state in states.values():
        for reservation in state.reservations:
            assert (
                reservation.valid_to is not None and reservation.valid_to > reservation.valid_from
            )
            employers = {e.data["employer_code"]: e.data for e in state.employment}
            assert employers[reservation.data["employer_code"]]["critical_enterprise"]
        if state.deferrals or state.reservations:
            assert state.identity_field("sex") == "male"
    kinds = Counter(e.data["service_kind"] for s in states.values() for e in s.service)
    assert {"conscript", "contract", "mobilised"} <= set(kinds)
    fitness = Counter(
        s.medical_decision.data["fitness"] for s in states.values() if s.medical_decision
    )
    current = {"fit", "fit_support", "temporarily_unfit", "unfit_review", "unfit_excluded"}
    assert current <= set(fitness) <= current | {"limited_fit"}
    assert fitness["limited_fit"] < 0.1 * sum(fitness.values())  # mostly re-examined since
    decisions = [e for s in states.values() for e in [s.medical_decision] if e is not None]
    for decision in decisions:
        before = dt.date.fromisoformat(decision.data["decision_date"]) < dt.date(2024, 5, 4)
        assert before or decision.data["fitness"] != "limited_fit"


def test_students_teachers_deaths_and_travel(states: dict[UUID, PersonState]) -> None:
    total = len(states)
    students = [
        e
        for s in states.values()
        for e in s.education
        if e.valid_to and e.valid_to > REFERENCE_DATE
    ]
    assert {"full_time", "part_time"} <= {e.data["form"] for e in students}
    assert any(e.data["level"] == "phd" for e in students)
    teachers = [
        e
        for s in states.values()
        for e in s.employment
        if e.data["teaching_or_research"] and e.data["share_of_full_time"] >= 0.75
    ]
    assert teachers
    dead = sum(state.death is not None for state in states.values())
    assert 0.01 < dead / total < 0.08
    travellers = sum(bool(state.border_crossings) for state in states.values())
    assert 0.03 < travellers / total < 0.2
    abroad = sum(
        1
        for s in states.values()
        if s.last_border_crossing is not None and s.last_border_crossing.data["direction"] == "exit"
    )
    assert abroad > 0


def test_deferrals_start_after_their_grounds(states: dict[UUID, PersonState]) -> None:
    for state in states.values():
        for deferral in state.deferrals:
            ground = deferral.data["ground"]
            if ground == "temporarily_unfit":
                assert state.medical_decision is not None
                assert deferral.valid_from >= state.medical_decision.valid_from
            elif ground == "student":
                assert any(deferral.valid_from >= e.valid_from for e in state.education)
            elif ground == "teaching_research_staff":
                assert any(
                    e.data["teaching_or_research"] and deferral.valid_from >= e.valid_from
                    for e in state.employment
                )
            elif ground == "disability":
                assert state.disability and deferral.valid_from >= state.disability[0].valid_from


def _may_leave_in_war_time(state: PersonState) -> bool:
    """Exempting circumstances as the register shows them (ground documents at the border)."""
    minors = [
        e
        for e in state.family
        if e.data["relation"] == "child"
        and (REFERENCE_DATE - dt.date.fromisoformat(e.data["relative_birth_date"])).days < 18 * 365
    ]
    return bool(
        state.deferrals
        or state.disability
        or state.category in ("removed", "excluded")
        or len(minors) >= 3
        or any(e.data["alone"] or e.data.get("relative_disability_group") for e in minors)
        or any(e.data["relation"] == "ward" for e in state.family)
    )


def test_men_of_mobilisation_age_rarely_leave_in_war_time(states: dict[UUID, PersonState]) -> None:
    war = dt.date(2022, 2, 24)
    exits = men = 0
    for state in states.values():
        born = dt.date.fromisoformat(state.identity_field("birth_date"))
        for crossing in state.border_crossings:
            if crossing.data["direction"] != "exit" or crossing.valid_from < war:
                continue
            exits += 1
            age = (crossing.valid_from - born).days // 365
            if state.identity_field("sex") == "male" and 25 <= age < 60:
                men += 1
                assert _may_leave_in_war_time(state)
    assert exits > 100 and men < 0.1 * exits
