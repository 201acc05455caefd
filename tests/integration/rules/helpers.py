"""Shared test data for the rules: a liable reservist, father of three."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from oberih.persons.facts import FactKind
from oberih.persons.services import create_person
from tests.factories import identity_payload, new_fact


def father_of_three(session: Session, *, now: dt.datetime) -> uuid.UUID:
    """A man born 1985, registered as liable, whose eldest child turns 18 on 2027-03-01;
    committed."""
    person_id = create_person(
        session,
        facts=[
            new_fact(FactKind.identity, identity_payload(birth_date="1985-05-01")),
            new_fact(
                FactKind.military_registration,
                {"category": "liable", "composition": "private"},
                source="officer",
                valid_from=dt.date(2010, 5, 1),
            ),
        ]
        + [
            new_fact(
                FactKind.family,
                {"relation": "child", "relative_birth_date": born},
                source="civil_status",
                valid_from=dt.date.fromisoformat(born),
            )
            for born in ("2009-03-01", "2011-07-20", "2016-02-10")
        ],
        now=now,
    ).person_id
    session.commit()
    return person_id
