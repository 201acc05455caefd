"""Scopes per principal and the pure access rule (the SQL side is in tests/integration/auth)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from oberih.auth.jurisdiction import (
    Scope,
    apply_scope,
    can_access,
    employers_in_force,
    scope_for,
)
from oberih.auth.principals import Principal, Role
from oberih.persons.facts import FactKind
from oberih.persons.models import FactRow, PersonStateRow
from oberih.persons.state import fold
from tests.factories import make_fact, utc

TODAY = dt.date(2026, 3, 1)
ME = uuid.UUID("00000000-0000-4000-8000-00000000000a")
SOMEONE = uuid.UUID("00000000-0000-4000-8000-00000000000b")


def _scope(**attributes: object) -> Scope:
    return scope_for(Principal(subject="s", **attributes), today=TODAY)  # type: ignore[arg-type]


def test_a_citizen_reaches_only_themself() -> None:
    scope = _scope(role=Role.citizen, person_id=ME)
    assert scope == Scope.of_person(ME)
    assert can_access(scope, person_id=ME, office_code="TCC-UA46-03")
    assert not can_access(scope, person_id=SOMEONE, office_code="TCC-UA46-03")


def test_an_officer_reaches_their_office() -> None:
    scope = _scope(role=Role.tcc_officer, office_code="TCC-UA46-03")
    assert can_access(scope, person_id=SOMEONE, office_code="TCC-UA46-03")
    assert not can_access(scope, person_id=SOMEONE, office_code="TCC-UA46-04")
    assert not can_access(scope, person_id=SOMEONE, office_code="TCC-UA80-03")
    assert not can_access(scope, person_id=SOMEONE, office_code=None)


def test_a_regional_officer_reaches_every_office_of_the_region() -> None:
    scope = _scope(role=Role.tcc_officer, office_code="TCC-UA46-00", region="UA46")
    assert scope.regions == frozenset({"UA46"})
    assert can_access(scope, person_id=SOMEONE, office_code="TCC-UA46-07")
    assert not can_access(scope, person_id=SOMEONE, office_code="TCC-UA80-01")


def test_a_commission_reaches_its_office_only_even_with_a_region_claim() -> None:
    scope = _scope(role=Role.medical_commission, office_code="TCC-UA46-03", region="UA46")
    assert scope == Scope.of_offices({"TCC-UA46-03"})


def test_an_employer_reaches_its_current_employees() -> None:
    scope = _scope(role=Role.employer, employer_code="12345678")
    assert scope == Scope.of_employer("12345678", on=TODAY)
    assert can_access(scope, person_id=SOMEONE, office_code=None, employer_codes={"12345678"})
    assert not can_access(scope, person_id=SOMEONE, office_code=None, employer_codes={"87654321"})


@pytest.mark.parametrize("role", [Role.registry_admin, Role.analyst])
def test_nationwide_roles(role: Role) -> None:
    scope = _scope(role=role)
    assert scope.is_nationwide
    assert can_access(scope, person_id=SOMEONE, office_code=None)


@pytest.mark.parametrize("role", [Role.auditor, Role.verifier])
def test_roles_that_reach_no_person(role: Role) -> None:
    scope = _scope(role=role)
    assert not scope.is_nationwide
    assert not can_access(scope, person_id=SOMEONE, office_code="TCC-UA46-03")


def test_a_source_register_reaches_no_person() -> None:
    scope = _scope(role=Role.source_register, source="tax")
    assert scope == Scope.nobody()


def test_a_scope_is_never_nationwide_by_accident() -> None:
    assert not Scope.of_offices().is_nationwide
    assert Scope.of_offices().limits_office


def test_apply_scope_refuses_statements_without_person_state() -> None:
    with pytest.raises(ValueError, match="person_state"):
        apply_scope(select(FactRow.id), Scope.of_person(ME))


def test_apply_scope_leaves_nationwide_statements_alone() -> None:
    statement = select(PersonStateRow.person_id)
    assert apply_scope(statement, Scope.nationwide()) is statement


def test_region_codes_are_checked_before_they_reach_sql() -> None:
    with pytest.raises(ValueError, match="UA46"):
        apply_scope(select(PersonStateRow.person_id), Scope.of_offices(regions={"%"}))


def test_employers_in_force_follow_the_fold() -> None:
    employment = make_fact(
        FactKind.employment,
        {"employer_code": "12345678"},
        person_id=ME,
        seq=1,
        recorded_at=utc(2025, 1, 1),
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2026, 1, 31),
    )
    current = make_fact(
        FactKind.employment,
        {"employer_code": "87654321"},
        person_id=ME,
        seq=2,
        recorded_at=utc(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
    )
    state = fold(ME, [employment, current])
    assert employers_in_force(state, TODAY) == {"87654321"}
    assert employers_in_force(state, dt.date(2025, 6, 1)) == {"12345678"}
