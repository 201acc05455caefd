"""Shared test data for the exchange: a registered person, messages and signed batches; and
how a test sees that another transaction waits for a lock (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from oberih.exchange.duplicates import get_duplicate
from oberih.exchange.models import DuplicateCandidate, ExchangeRecord
from oberih.exchange.services import Processor, claim_record
from oberih.exchange.signing import KeyRing, key_entry, registered_key, sign_batch
from oberih.identifiers import make_rnokpp, make_unzr
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person
from tests.factories import new_fact

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
BIRTH = dt.date(1990, 3, 15)
RNOKPP = make_rnokpp(BIRTH, 7, "male")
TWICE_UNZR = make_unzr(BIRTH, 78)


# The man the exchange tests are about, as the civil status register knows him.
IDENTITY = {
    "surname": "Ґудзь",
    "given_name": "Тарас",
    "patronymic": "Остапович",
    "birth_date": BIRTH.isoformat(),
    "birth_place": "м. Полтава",
    "sex": "male",
}


def register_person(session: Session, *, surname: str = "Ґудзь") -> uuid.UUID:
    identity = IDENTITY | {"surname": surname}
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
    second = create_person(
        session,
        facts=[
            new_fact(FactKind.identity, IDENTITY, source="civil_status"),
            new_fact(FactKind.identifier, {"identifier_kind": "unzr", "value": TWICE_UNZR}),
            new_fact(FactKind.death, {"date_of_death": "2026-10-20"}, source="civil_status"),
        ],
        now=NOW - dt.timedelta(days=300),
    ).person_id
    return first, second


# Records of men ``oberih dedup`` pairs A-B (the birth date and place differ) and B-C (the
# patronymic differs), but not A-C (all three differ); D is C recorded again; F is paired
# with A and C (one difference each), not with B.
OVERLAPPING = {
    "A": {},
    "B": {"birth_date": "1990-08-27", "birth_place": "м. Львів"},
    "C": {"patronymic": "Андрійович", "birth_date": "1990-08-27", "birth_place": "м. Львів"},
    "D": {"patronymic": "Андрійович", "birth_date": "1990-08-27", "birth_place": "м. Львів"},
    "F": {"patronymic": "Андрійович"},
}


def register_overlapping(session: Session, names: str = "ABC") -> dict[str, uuid.UUID]:
    """The persons ``names`` of ``OVERLAPPING``, by name."""
    return {
        name: create_person(
            session,
            facts=[
                new_fact(FactKind.identity, IDENTITY | OVERLAPPING[name], source="civil_status")
            ],
            now=NOW - dt.timedelta(days=30),
        ).person_id
        for name in names
    }


def pairs_by_name(session: Session, persons: dict[str, uuid.UUID]) -> dict[str, DuplicateCandidate]:
    """Every pair queued for ``persons`` (``DuplicateCandidate``), by their names: "AB"."""
    names = {person_id: name for name, person_id in persons.items()}
    return {
        "".join(sorted(names[pair.person_id] + names[pair.other_person_id])): pair
        for pair in session.scalars(select(DuplicateCandidate))
        if pair.person_id in names and pair.other_person_id in names
    }


def left_open(session: Session, pair_id: uuid.UUID) -> None:
    """A pair as a merge of one of its persons into a third left it before migration 0021:
    open, though the register refuses to merge an absorbed person."""
    pair = get_duplicate(session, pair_id)
    pair.status, pair.decided_at, pair.decided_by, pair.merge_id = "open", None, None, None


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


def waits_for_a_lock(engine: Engine, *, within: float = 30.0) -> bool:
    """Whether a session of ``engine``'s database waits for a lock within ``within`` seconds
    (PostgreSQL's ``pg_stat_activity``): a second worker or officer blocked by the first, not
    one that read the row as it was and went on."""
    deadline = time.monotonic() + within
    while True:
        with engine.connect() as connection:
            waiting = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).scalar_one()
        if waiting or time.monotonic() >= deadline:
            return bool(waiting)
        time.sleep(0.05)


def process_batch(processor: Processor, batch_id: uuid.UUID, *, one_record: bool) -> None:
    """A batch's pending records in chunks, or each on the one-record path (a replay, an
    officer's decision, the fallback of a refused chunk), in position order."""
    if not one_record:
        processor.process_pending()
        return
    with processor.sessions() as session:  # a CSV record's position is its line in the file
        positions = session.scalars(
            select(ExchangeRecord.position)
            .where(ExchangeRecord.batch_id == batch_id)
            .order_by(ExchangeRecord.position)
        ).all()
    for position in positions:
        with processor.sessions() as session, session.begin():
            record = claim_record(session, (batch_id, position))
            assert record is not None
            processor.process_record(session, record)
