"""Persons as journal facts, for the rules tests (synthetic data only)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

from oberih.persons.facts import Fact, FactKind
from oberih.persons.state import PersonState, fold
from tests.factories import identity_payload, utc

_seq = itertools.count(1)


class PersonFacts:
    """A person's facts, built up kind by kind."""

    def __init__(self, birth_date: str = "1990-03-15", sex: str = "male") -> None:
        self.person_id = uuid.uuid4()
        self.facts: list[Fact] = []
        self.add(FactKind.identity, identity_payload(birth_date=birth_date, sex=sex))

    def add(
        self,
        kind: FactKind,
        payload: dict[str, Any],
        *,
        valid_from: dt.date | None = None,
        valid_to: dt.date | None = None,
        source: str = "demographic",
        source_record_id: str | None = None,
        supersedes_id: uuid.UUID | None = None,
    ) -> Fact:
        seq = len(self.facts) + 1
        fact = Fact(
            id=uuid.uuid4(),
            person_id=self.person_id,
            seq=seq,
            kind=kind.value,
            payload=payload,
            recorded_at=utc(2020, 1, 1) + dt.timedelta(minutes=next(_seq)),
            source=source,
            source_record_id=source_record_id or f"{source}-{next(_seq)}",
            legal_basis="test",
            actor="test",
            valid_from=valid_from,
            valid_to=valid_to,
            supersedes_id=supersedes_id,
        )
        self.facts.append(fact)
        return fact

    def liable(self, composition: str = "private") -> PersonFacts:
        self.add(
            FactKind.military_registration,
            {"category": "liable", "composition": composition},
            valid_from=dt.date(2015, 1, 1),
            source="officer",
        )
        return self

    def child(self, birth_date: str, **payload: Any) -> Fact:
        return self.add(
            FactKind.family,
            {"relation": "child", "relative_birth_date": birth_date, **payload},
            valid_from=dt.date.fromisoformat(birth_date),
            source="civil_status",
        )

    def state(self) -> PersonState:
        return fold(self.person_id, self.facts)
