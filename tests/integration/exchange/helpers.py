"""Shared test data for the exchange: a registered person, messages and signed batches."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from oberih.exchange.signing import KeyRing, key_entry, registered_key, sign_batch
from oberih.identifiers import make_rnokpp, make_unzr
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person
from tests.factories import new_fact

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
BIRTH = dt.date(1990, 3, 15)
RNOKPP = make_rnokpp(BIRTH, 7, "male")
TWICE_UNZR = make_unzr(BIRTH, 78)


def register_person(session: Session, *, surname: str = "Ґудзь") -> uuid.UUID:
    identity = {
        "surname": surname,
        "given_name": "Тарас",
        "patronymic": "Остапович",
        "birth_date": BIRTH.isoformat(),
        "birth_place": "м. Полтава",
        "sex": "male",
    }
    result = create_person(
        session,
        facts=[
            new_fact(FactKind.identity, identity, source="civil_status"),
            new_fact(
                FactKind.identifier, {"identifier_kind": "rnokpp", "value": RNOKPP}, source="tax"
            ),
        ],
        now=NOW - dt.timedelta(days=400),
    )
    return result.person_id


def register_twice(session: Session) -> tuple[uuid.UUID, uuid.UUID]:
    """``register_person``'s man, and the same man registered again from another register
    without his RNOKPP but with his UNZR and his death: a pair for ``oberih dedup``."""
    first = register_person(session)
    identity = {
        "surname": "Ґудзь",
        "given_name": "Тарас",
        "patronymic": "Остапович",
        "birth_date": BIRTH.isoformat(),
        "birth_place": "м. Полтава",
        "sex": "male",
    }
    second = create_person(
        session,
        facts=[
            new_fact(FactKind.identity, identity, source="civil_status"),
            new_fact(FactKind.identifier, {"identifier_kind": "unzr", "value": TWICE_UNZR}),
            new_fact(FactKind.death, {"date_of_death": "2026-10-20"}, source="civil_status"),
        ],
        now=NOW - dt.timedelta(days=300),
    ).person_id
    return first, second


def subject(**changes: Any) -> dict[str, Any]:
    base = {
        "surname": "Ґудзь",
        "given_name": "Тарас",
        "patronymic": "Остапович",
        "birth_date": BIRTH.isoformat(),
        "sex": "male",
    }
    return {key: value for key, value in (base | changes).items() if value is not None}


def message(
    record_id: str, message_type: str, payload: dict[str, Any], **subject_changes: Any
) -> dict[str, Any]:
    return {
        "source_record_id": record_id,
        "recorded_at": "2026-11-10T09:00:00Z",
        "subject": subject(**subject_changes),
        "message_type": message_type,
        "payload": payload,
    }


def lines(*documents: dict[str, Any] | str) -> bytes:
    return "".join(
        (doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False)) + "\n"
        for doc in documents
    ).encode("utf-8")


class SourceKeys:
    """A source register's signing key and the register's key ring that knows it."""

    def __init__(self, source: str, kid: str = "k1") -> None:
        self.source = source
        self.kid = kid
        self.private_key = Ed25519PrivateKey.generate()
        self.ring = KeyRing()
        self.ring.register(
            registered_key(key_entry(source=source, kid=kid, private_key=self.private_key))
        )

    def sign(self, body: bytes) -> str:
        return sign_batch(body, private_key=self.private_key, kid=self.kid)
