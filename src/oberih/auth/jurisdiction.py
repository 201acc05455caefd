"""Jurisdiction: which persons a principal may reach, applied inside the SQL query.

A search or a list must never return, count or hint at a person outside the caller's area, so
the area is a ``WHERE`` clause on ``person_state`` (``apply_scope``), never a filter applied to
results afterwards. A single-record read outside the area is answered exactly like a person that
does not exist (``OutOfScope`` -> 404) and audited as a denial: "a Lviv officer cannot read,
search, or infer a Kyiv person" (issue 3).

Areas by role (``scope_for``):
- citizen: their own record only;
- tcc_officer: their office, or with a region claim every office of that oblast (office codes
  carry their oblast: ``TCC-UA46-03`` is in ``UA46``);
- medical_commission: its office's area. Simplification: a commission sits at a recruitment
  office and decides on persons that office refers to it; until referrals are facts of their own,
  "referred to it" is approximated by "registered at its office";
- employer: persons with an employment at its EDRPOU that is in force on the day of the request
  (a fact of kind ``employment``, not superseded or retracted, valid on that day);
- registry_admin, analyst: nationwide (the analyst's permissions reach aggregates only);
- auditor, verifier, source_register: no person at all.

A ``Scope`` has independent restrictions (office, person, employer), all of which must hold;
``None`` means "not restricted by this". A person without an office is visible only nationwide.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.util import find_tables

from oberih.auth.principals import REGION_CODE, Principal, Role, office_region
from oberih.persons.facts import FactKind
from oberih.persons.models import FactRow, PersonStateRow
from oberih.persons.state import PersonState

Columns = TypeVarTuple("Columns")


@dataclass(frozen=True, slots=True)
class Scope:
    office_codes: frozenset[str] | None  # with ``regions``: the office restriction
    regions: frozenset[str] | None  # every office of these oblasts
    person_ids: frozenset[uuid.UUID] | None
    employer_code: str | None  # EDRPOU whose current employees are in scope
    employed_on: dt.date | None = None  # the day employment must be in force

    @classmethod
    def nationwide(cls) -> Scope:
        return cls(office_codes=None, regions=None, person_ids=None, employer_code=None)

    @classmethod
    def nobody(cls) -> Scope:
        return cls(office_codes=frozenset(), regions=None, person_ids=None, employer_code=None)

    @classmethod
    def of_person(cls, person_id: uuid.UUID) -> Scope:
        return cls(
            office_codes=None, regions=None, person_ids=frozenset({person_id}), employer_code=None
        )

    @classmethod
    def of_offices(
        cls, office_codes: Iterable[str] = (), *, regions: Iterable[str] | None = None
    ) -> Scope:
        return cls(
            office_codes=frozenset(office_codes),
            regions=frozenset(regions) if regions is not None else None,
            person_ids=None,
            employer_code=None,
        )

    @classmethod
    def of_employer(cls, employer_code: str, *, on: dt.date) -> Scope:
        return cls(
            office_codes=None,
            regions=None,
            person_ids=None,
            employer_code=employer_code,
            employed_on=on,
        )

    @property
    def limits_office(self) -> bool:
        return self.office_codes is not None or self.regions is not None

    @property
    def is_nationwide(self) -> bool:
        return not self.limits_office and self.person_ids is None and self.employer_code is None


def scope_for(principal: Principal, *, today: dt.date) -> Scope:
    """The area of ``principal``; ``today`` decides whose employment is in force."""
    return _SCOPES.get(principal.role, _nobody)(principal, today)


def _citizen(principal: Principal, _today: dt.date) -> Scope:
    return Scope.of_person(principal.person_id) if principal.person_id else Scope.nobody()


def _officer(principal: Principal, _today: dt.date) -> Scope:
    if principal.region:
        return Scope.of_offices(regions={principal.region})
    return _office(principal, _today)


def _office(principal: Principal, _today: dt.date) -> Scope:
    # A commission's region claim, if any, does not widen it: referrals come from its office.
    return Scope.of_offices({principal.office_code} if principal.office_code else set())


def _employer(principal: Principal, today: dt.date) -> Scope:
    if principal.employer_code is None:
        return Scope.nobody()
    return Scope.of_employer(principal.employer_code, on=today)


def _nationwide(_principal: Principal, _today: dt.date) -> Scope:
    return Scope.nationwide()


def _nobody(_principal: Principal, _today: dt.date) -> Scope:
    return Scope.nobody()


_SCOPES: dict[Role, Callable[[Principal, dt.date], Scope]] = {
    Role.citizen: _citizen,
    Role.tcc_officer: _officer,
    Role.medical_commission: _office,
    Role.employer: _employer,
    Role.registry_admin: _nationwide,
    Role.analyst: _nationwide,
}


def apply_scope(statement: Select[*Columns], scope: Scope) -> Select[*Columns]:
    """``statement`` restricted to the persons in ``scope``.

    The statement must select from (or join) ``person_state`` itself, not an alias: the filter is
    on its ``office_code`` and ``person_id`` columns. A statement without it is refused rather
    than silently turned into a cross join.
    """
    if not any(PersonStateRow.__table__ in find_tables(f) for f in statement.get_final_froms()):
        raise ValueError("apply_scope needs a statement that selects from person_state")
    if scope.is_nationwide:
        return statement
    return statement.where(scope_condition(scope))


def scope_condition(scope: Scope) -> ColumnElement[bool]:
    """The SQL condition on ``person_state`` that a person in ``scope`` meets."""
    conditions: list[ColumnElement[bool]] = []
    if scope.limits_office:
        conditions.append(_office_condition(scope))
    if scope.person_ids is not None:
        conditions.append(PersonStateRow.person_id.in_(scope.person_ids))
    if scope.employer_code is not None:
        conditions.append(_employment_condition(scope.employer_code, scope.employed_on))
    return and_(*conditions) if conditions else true()


def _office_condition(scope: Scope) -> ColumnElement[bool]:
    office = PersonStateRow.office_code
    alternatives: list[ColumnElement[bool]] = []
    if scope.office_codes:
        alternatives.append(office.in_(sorted(scope.office_codes)))
    for region in sorted(scope.regions or ()):
        if not REGION_CODE.match(region):
            raise ValueError("region codes look like UA46")  # also keeps LIKE wildcards out
        alternatives.append(office.like(f"TCC-{region}-%"))
    return or_(*alternatives) if alternatives else false()


def _employment_condition(employer_code: str, on: dt.date | None) -> ColumnElement[bool]:
    if on is None:
        raise ValueError("an employer scope needs the day employment must be in force")
    employment = FactRow
    superseding = aliased(FactRow)
    in_force = (
        select(employment.id)
        .where(
            employment.person_id == PersonStateRow.person_id,
            employment.kind == FactKind.employment.value,
            employment.payload["employer_code"].as_string() == employer_code,
            or_(employment.valid_from.is_(None), employment.valid_from <= on),
            or_(employment.valid_to.is_(None), employment.valid_to >= on),
            ~exists().where(superseding.supersedes_id == employment.id),
        )
        .correlate(PersonStateRow)
    )
    return in_force.exists()


def person_in_scope(session: Session, scope: Scope, person_id: uuid.UUID) -> bool:
    """Whether the person exists in ``person_state`` and is within ``scope`` (one query)."""
    statement = select(PersonStateRow.person_id).where(PersonStateRow.person_id == person_id)
    return session.scalar(apply_scope(statement, scope)) is not None


def can_access(
    scope: Scope,
    *,
    person_id: uuid.UUID,
    office_code: str | None,
    employer_codes: Collection[str] = (),
) -> bool:
    """The same rule as ``scope_condition``, for a record already loaded (pure).

    ``employer_codes``: the EDRPOUs of the person's employments in force on the scope's day
    (``employers_in_force``); only consulted for an employer scope.
    """
    if scope.limits_office and not _office_in_scope(scope, office_code):
        return False
    if scope.person_ids is not None and person_id not in scope.person_ids:
        return False
    return scope.employer_code is None or scope.employer_code in employer_codes


def _office_in_scope(scope: Scope, office_code: str | None) -> bool:
    if office_code is None:
        return False
    if scope.office_codes and office_code in scope.office_codes:
        return True
    return bool(scope.regions) and office_region(office_code) in (scope.regions or ())


def employers_in_force(state: PersonState, on: dt.date) -> frozenset[str]:
    """EDRPOUs of the person's employments in force on ``on`` (the fold already dropped
    superseded and retracted facts)."""
    return frozenset(
        str(entry.data["employer_code"]) for entry in state.employment if entry.is_true_on(on)
    )
