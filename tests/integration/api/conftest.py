"""A real app (test mode, development issuer) on a fresh database of each engine, with people in
two recruitment offices (Kyiv, Lviv) and an employee of a critical enterprise."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from oberih.api.app import create_app
from oberih.auth.development import development_issuer
from oberih.auth.principals import Principal, Role
from oberih.config import Settings
from oberih.db.engine import make_session_factory
from oberih.identifiers import make_rnokpp
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person
from tests.factories import identity_payload, new_fact

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
KYIV_OFFICE = "TCC-UA80-01"
LVIV_OFFICE = "TCC-UA46-01"
EMPLOYER = "00000017"


@dataclass
class World:
    client: TestClient
    settings: Settings
    engine: Engine
    kyiv_person: uuid.UUID
    lviv_person: uuid.UUID
    employee: uuid.UUID

    def token(self, principal: Principal) -> str:
        # Tokens are checked against the real clock (PyJWT), the register against NOW.
        return development_issuer(self.settings).mint(principal, now=dt.datetime.now(dt.UTC))

    def headers(self, principal: Principal, *, purpose: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token(principal)}"}
        if purpose:
            headers["X-Purpose"] = purpose
        return headers


OFFICER_KYIV = Principal(subject="officer-kyiv", role=Role.tcc_officer, office_code=KYIV_OFFICE)
OFFICER_LVIV = Principal(subject="officer-lviv", role=Role.tcc_officer, office_code=LVIV_OFFICE)
AUDITOR = Principal(subject="auditor-1", role=Role.auditor)
EMPLOYER_PRINCIPAL = Principal(subject="employer-1", role=Role.employer, employer_code=EMPLOYER)
PURPOSE = "CASE-2026-000123"


def citizen(person_id: uuid.UUID) -> Principal:
    return Principal(subject=f"citizen-{person_id}", role=Role.citizen, person_id=person_id)


def _person(session, *, surname: str, office: str, region: str, serial: int, extra=()):  # type: ignore[no-untyped-def]
    rnokpp = make_rnokpp(dt.date(1990, 3, 15), serial, "male")
    return create_person(
        session,
        facts=[
            new_fact(FactKind.identity, identity_payload(surname=surname), source="civil_status"),
            new_fact(
                FactKind.identifier, {"identifier_kind": "rnokpp", "value": rnokpp}, source="tax"
            ),
            new_fact(
                FactKind.address,
                {
                    "address_kind": "registered",
                    "region": region,
                    "hromada": "Громада",
                    "settlement": "Місто",
                    "office_code": office,
                },
                valid_from=dt.date(2015, 1, 1),
            ),
            new_fact(
                FactKind.military_registration,
                {"category": "liable", "office_code": office, "rank": "солдат"},
                source="register",
                valid_from=dt.date(2015, 3, 15),
            ),
            *extra,
        ],
        now=NOW - dt.timedelta(days=30),
    ).person_id


@pytest.fixture
def world(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    settings = Settings(env="test", database_url=database_url, data_dir=tmp_path)
    with make_session_factory(engine)() as session:
        kyiv = _person(session, surname="Шевченко", office=KYIV_OFFICE, region="UA80", serial=11)
        lviv = _person(session, surname="Шевчук", office=LVIV_OFFICE, region="UA46", serial=12)
        employee = _person(
            session,
            surname="Бондар",
            office=LVIV_OFFICE,
            region="UA46",
            serial=13,
            extra=[
                new_fact(
                    FactKind.employment,
                    {"employer_code": EMPLOYER, "position": "інженер", "critical_enterprise": True},
                    source="tax",
                    valid_from=dt.date(2020, 1, 1),
                ),
                new_fact(
                    FactKind.reservation,
                    {"employer_code": EMPLOYER, "decision_ref": "RES-1"},
                    source="employer",
                    valid_from=dt.date(2026, 1, 1),
                    valid_to=dt.date(2027, 1, 1),
                ),
            ],
        )
        session.commit()
    app = create_app(settings, engine=engine, clock=lambda: NOW)
    with TestClient(app) as client:
        yield World(client, settings, engine, kyiv, lviv, employee)
