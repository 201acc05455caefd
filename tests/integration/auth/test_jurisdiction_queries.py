"""Jurisdiction in SQL, on both engines: lists, counts and single reads stay inside the area.

"A Lviv officer cannot read, search, or infer a Kyiv person" (issue 3): the out-of-area read is
answered exactly like a read of a person who does not exist, and is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from oberih.audit.models import AuditEventRow
from oberih.auth.dependencies import (
    Access,
    AuditLogDenialRecorder,
    AuthServices,
    access,
    install_auth,
)
from oberih.auth.errors import NotAuthenticated, OutOfScope, PermissionDenied
from oberih.auth.jurisdiction import Scope, apply_scope, person_in_scope, scope_for
from oberih.auth.permissions import Permission
from oberih.auth.principals import Principal, Role
from oberih.auth.tokens import TokenVerifier
from oberih.db.engine import make_session_factory
from oberih.persons.facts import FactKind
from oberih.persons.models import PersonStateRow
from oberih.persons.services import append_facts, create_person
from tests.audit_support import audit_leaves
from tests.auth_support import SigningKey, claims, trusted
from tests.factories import address_payload, identity_payload, new_fact, utc

TODAY = dt.date(2026, 3, 1)
NOW = utc(2026, 3, 1)
EMPLOYER = "12345678"


@dataclass
class Population:
    lviv_03: uuid.UUID
    lviv_05: uuid.UUID
    kyiv: uuid.UUID
    no_office: uuid.UUID
    employee: uuid.UUID
    former_employee: uuid.UUID
    retracted_employee: uuid.UUID
    future_employee: uuid.UUID


def _address(office: str) -> dict[str, Any]:
    region = office.split("-")[1]
    return {**address_payload("Місто", region=region), "office_code": office}


def _person(session: Session, surname: str, office: str | None, *extra: Any) -> uuid.UUID:
    facts = [new_fact(FactKind.identity, identity_payload(surname=surname))]
    if office:
        facts.append(new_fact(FactKind.address, _address(office)))
    facts.extend(extra)
    return create_person(session, facts=facts, now=NOW).person_id


def _employment(employer: str, valid_from: dt.date, valid_to: dt.date | None = None) -> Any:
    return new_fact(
        FactKind.employment,
        {"employer_code": employer},
        source="tax",
        valid_from=valid_from,
        valid_to=valid_to,
    )


def _populate(session: Session) -> Population:
    retracted = _person(
        session, "Відкликаний", "TCC-UA80-01", _employment(EMPLOYER, dt.date(2025, 1, 1))
    )
    [employment] = [f for f in _facts_of(session, retracted) if f.kind == FactKind.employment]
    append_facts(
        session,
        person_id=retracted,
        facts=[
            new_fact(
                FactKind.retraction,
                {"reason": "sent in error"},
                source="tax",
                supersedes_id=employment.id,
            )
        ],
        now=NOW,
    )
    population = Population(
        lviv_03=_person(session, "Львівський", "TCC-UA46-03"),
        lviv_05=_person(session, "Дрогобицький", "TCC-UA46-05"),
        kyiv=_person(session, "Київський", "TCC-UA80-01"),
        no_office=_person(session, "Безадресний", None),
        employee=_person(
            session,
            "Працівник",
            "TCC-UA80-02",
            _employment("87654321", dt.date(2020, 1, 1), dt.date(2024, 12, 31)),
            _employment(EMPLOYER, dt.date(2025, 1, 1)),
        ),
        former_employee=_person(
            session,
            "Колишній",
            "TCC-UA80-02",
            _employment(EMPLOYER, dt.date(2020, 1, 1), dt.date(2025, 12, 31)),
        ),
        retracted_employee=retracted,
        future_employee=_person(
            session, "Майбутній", "TCC-UA46-03", _employment(EMPLOYER, dt.date(2026, 6, 1))
        ),
    )
    session.commit()
    return population


def _facts_of(session: Session, person_id: uuid.UUID) -> list[Any]:
    from oberih.persons.services import load_facts

    return load_facts(session, person_id)


@pytest.fixture
def population(session: Session) -> Population:
    return _populate(session)


def _visible(session: Session, scope: Scope) -> set[uuid.UUID]:
    return set(session.scalars(apply_scope(select(PersonStateRow.person_id), scope)))


def _count(session: Session, scope: Scope) -> int:
    statement = select(func.count()).select_from(PersonStateRow)
    return session.scalar(apply_scope(statement, scope)) or 0


def _scope(**attributes: Any) -> Scope:
    return scope_for(Principal(subject="s", **attributes), today=TODAY)


def test_an_office_sees_its_own_area_in_lists_and_counts(
    session: Session, population: Population
) -> None:
    scope = _scope(role=Role.tcc_officer, office_code="TCC-UA46-03")
    assert _visible(session, scope) == {population.lviv_03, population.future_employee}
    assert _count(session, scope) == 2


def test_a_regional_officer_sees_every_office_of_the_region(
    session: Session, population: Population
) -> None:
    scope = _scope(role=Role.tcc_officer, region="UA46")
    assert _visible(session, scope) == {
        population.lviv_03,
        population.lviv_05,
        population.future_employee,
    }


def test_a_citizen_sees_only_themself(session: Session, population: Population) -> None:
    scope = _scope(role=Role.citizen, person_id=population.kyiv)
    assert _visible(session, scope) == {population.kyiv}
    assert _count(session, scope) == 1


def test_an_employer_sees_only_current_employees(session: Session, population: Population) -> None:
    scope = _scope(role=Role.employer, employer_code=EMPLOYER)
    # Not the former employee (ended), the retracted one (withdrawn) or the future one.
    assert _visible(session, scope) == {population.employee}
    earlier = Scope.of_employer(EMPLOYER, on=dt.date(2025, 6, 1))
    assert _visible(session, earlier) == {population.employee, population.former_employee}
    assert _visible(session, Scope.of_employer("87654321", on=TODAY)) == set()


def test_nationwide_and_nobody(session: Session, population: Population) -> None:
    assert _count(session, _scope(role=Role.registry_admin)) == 8
    assert _count(session, _scope(role=Role.auditor)) == 0
    assert _visible(session, Scope.nobody()) == set()


def test_persons_without_an_office_are_visible_only_nationwide(
    session: Session, population: Population
) -> None:
    assert population.no_office in _visible(session, Scope.nationwide())
    assert population.no_office not in _visible(session, Scope.of_offices(regions={"UA46", "UA80"}))


def test_a_single_read_checks_the_same_rule(session: Session, population: Population) -> None:
    lviv = _scope(role=Role.tcc_officer, office_code="TCC-UA46-03")
    assert person_in_scope(session, lviv, population.lviv_03)
    assert not person_in_scope(session, lviv, population.kyiv)
    assert not person_in_scope(session, lviv, uuid.uuid4())


def test_scope_filters_compose_with_search_conditions(
    session: Session, population: Population
) -> None:
    statement = select(PersonStateRow.person_id).where(PersonStateRow.surname == "Київський")
    lviv = _scope(role=Role.tcc_officer, region="UA46")
    assert list(session.scalars(apply_scope(statement, lviv))) == []
    assert list(session.scalars(apply_scope(statement, Scope.nationwide()))) == [population.kyiv]


# --- through HTTP, with the audit log ------------------------------------------------------------

KEY = SigningKey.es256(kid="jq-1")
LVIV_OFFICER = {"sub": "lviv-7", "oberih_role": "tcc_officer", "oberih_office": "TCC-UA46-03"}


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def _app(engine: Engine) -> FastAPI:
    sessions = make_session_factory(engine)
    app = FastAPI()
    install_auth(
        app,
        AuthServices(
            verifier=TokenVerifier([trusted(KEY)]),
            denials=AuditLogDenialRecorder(sessions, clock=lambda: NOW),
            clock=lambda: NOW,
        ),
    )

    app.state.sessions = sessions

    async def not_found(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"status": 404, "title": "Not found"}, status_code=404)

    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        status = 401 if isinstance(exc, NotAuthenticated) else 403
        return JSONResponse({"status": status}, status_code=status)

    app.add_exception_handler(OutOfScope, not_found)
    app.add_exception_handler(LookupError, not_found)  # PersonNotFound, as the service maps it
    app.add_exception_handler(NotAuthenticated, refused)
    app.add_exception_handler(PermissionDenied, refused)

    @app.get("/persons/{person_id}")
    def read_person(
        person_id: uuid.UUID,
        session: Annotated[Session, Depends(get_session)],
        granted: Annotated[Access, Depends(access(Permission.person_record_read))],
    ) -> dict[str, str]:
        granted.ensure_in_scope(session, person_id)
        return {"person_id": str(person_id)}

    return app


def _denials(engine: Engine) -> list[AuditEventRow]:
    return audit_leaves(engine)


def test_a_lviv_officer_cannot_tell_a_kyiv_person_from_nobody(
    engine: Engine, population: Population
) -> None:
    headers = {
        "Authorization": f"Bearer {KEY.sign(claims(LVIV_OFFICER))}",
        "X-Purpose": "CASE-2026-000123",
    }
    with TestClient(_app(engine)) as client:
        own = client.get(f"/persons/{population.lviv_03}", headers=headers)
        kyiv = client.get(f"/persons/{population.kyiv}", headers=headers)
        nobody = client.get(f"/persons/{uuid.uuid4()}", headers=headers)
    assert own.status_code == 200
    assert (kyiv.status_code, kyiv.content) == (nobody.status_code, nobody.content)
    assert kyiv.status_code == 404
    [event] = _denials(engine)  # the probe of a real person is audited; nobody is no one's
    assert event.action == "access:denied"
    assert event.outcome == "denied"
    assert event.person_id == population.kyiv
    assert event.actor == "tcc_officer:lviv-7"
    assert event.office_code == "TCC-UA46-03"
    assert event.purpose == "CASE-2026-000123"
    assert event.fields == ["person:record:read", "reason:out-of-scope"]


def test_a_missing_permission_is_in_the_audit_log(engine: Engine, population: Population) -> None:
    employer = {"sub": "firm-1", "oberih_role": "employer", "oberih_employer": EMPLOYER}
    token = KEY.sign(claims(employer, drop=("oberih_office",)))
    with TestClient(_app(engine)) as client:
        response = client.get(
            f"/persons/{population.employee}", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 403
    [event] = _denials(engine)
    assert (event.actor, event.person_id) == ("employer:firm-1", population.employee)
    assert event.fields == ["person:record:read", "reason:permission"]
