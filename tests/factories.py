"""Factories for test data (synthetic only)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

from oberih.persons.facts import Fact, FactKind, NewFact

_counter = itertools.count(1)


def utc(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


def make_fact(
    kind: FactKind,
    payload: dict[str, Any],
    *,
    person_id: uuid.UUID,
    seq: int,
    recorded_at: dt.datetime,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    supersedes_id: uuid.UUID | None = None,
    source: str = "demographic",
) -> Fact:
    return Fact(
        id=uuid.uuid4(),
        person_id=person_id,
        seq=seq,
        kind=kind.value,
        payload=payload,
        recorded_at=recorded_at,
        source=source,
        source_record_id=f"{source}-{next(_counter)}",
        legal_basis="Law 1951-VIII art. 7",
        actor="test",
        valid_from=valid_from,
        valid_to=valid_to,
        supersedes_id=supersedes_id,
    )


def new_fact(
    kind: FactKind,
    payload: dict[str, Any],
    *,
    source: str = "demographic",
    source_record_id: str | None = None,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    supersedes_id: uuid.UUID | None = None,
) -> NewFact:
    return NewFact(
        kind=kind,
        payload=payload,
        source=source,
        source_record_id=source_record_id or f"{source}-{next(_counter)}",
        legal_basis="Law 1951-VIII art. 7",
        actor="test",
        valid_from=valid_from,
        valid_to=valid_to,
        supersedes_id=supersedes_id,
    )


def identity_payload(
    surname: str = "Ковальчук",
    given_name: str = "Тарас",
    patronymic: str = "Петрович",
    birth_date: str = "1990-03-15",
    sex: str = "male",
) -> dict[str, Any]:
    return {
        "surname": surname,
        "given_name": given_name,
        "patronymic": patronymic,
        "birth_date": birth_date,
        "sex": sex,
        "citizenship": "UKR",
    }


def address_payload(
    settlement: str, region: str = "UA46", kind: str = "registered"
) -> dict[str, Any]:
    return {
        "address_kind": kind,
        "region": region,
        "hromada": f"{settlement} hromada",
        "settlement": settlement,
        "office_code": f"TCC-{region}-01",
    }
