"""Appending facts and reading state. Services add to the session; the caller commits.

Exceptions raised here (mapped to HTTP once, at the edge):
- ``PersonNotFound``: no such person.
- ``StaleVersion``: the caller's expected version is not the person's current one (lost update).
- ``ConflictingResend``: a source re-sent a record id with different content.
- ``IdentifierTaken``: an active identifier already belongs to another person.
- ``InvalidFact`` (from ``facts``): a payload or a fact that fails validation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from oberih.persons.facts import Fact, FactKind, InvalidFact, NewFact
from oberih.persons.models import FactRow, IdentifierRow, NameKeyRow, Person, PersonStateRow
from oberih.persons.projection import (
    add_name_counts,
    name_count_changes,
    name_dictionary_entries,
    projection_row,
)
from oberih.persons.state import PersonState, fold


class PersonNotFound(LookupError):
    pass


class StaleVersion(Exception):
    def __init__(self, *, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"person is at version {actual}, not {expected}")


class ConflictingResend(Exception):
    def __init__(self, *, source: str, source_record_id: str) -> None:
        self.source = source
        self.source_record_id = source_record_id
        super().__init__(
            f"record {source_record_id!r} of source {source!r} was already received "
            "with different content"
        )


class IdentifierTaken(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"this {kind} is already active on another person")


@dataclass
class AppendResult:
    person_id: uuid.UUID
    version: int
    appended: list[Fact] = field(default_factory=list)
    duplicates: list[Fact] = field(default_factory=list)


def fact_from_row(row: FactRow | Any) -> Fact:
    """The domain fact of a journal row, read by the ORM or by Core (same column names)."""
    return Fact(
        id=row.id,
        person_id=row.person_id,
        seq=row.seq,
        kind=row.kind,
        payload=row.payload,
        recorded_at=_aware(row.recorded_at),
        source=row.source,
        source_record_id=row.source_record_id,
        legal_basis=row.legal_basis,
        actor=row.actor,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        supersedes_id=row.supersedes_id,
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; everything the register stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def load_facts(session: Session, person_id: uuid.UUID) -> list[Fact]:
    rows = session.scalars(
        select(FactRow).where(FactRow.person_id == person_id).order_by(FactRow.seq)
    )
    return [fact_from_row(row) for row in rows]


def person_exists(session: Session, person_id: uuid.UUID) -> bool:
    return session.get(Person, person_id) is not None


def get_state(
    session: Session,
    person_id: uuid.UUID,
    *,
    valid_at: dt.date | None = None,
    known_at: dt.datetime | None = None,
) -> PersonState:
    """The person's state, from the journal (any valid/known time) ."""
    facts = load_facts(session, person_id)
    if not facts and not person_exists(session, person_id):
        raise PersonNotFound(str(person_id))
    return fold(person_id, facts, valid_at=valid_at, known_at=known_at)


def get_projection(session: Session, person_id: uuid.UUID) -> PersonStateRow:
    row = session.get(PersonStateRow, person_id)
    if row is None:
        raise PersonNotFound(str(person_id))
    return row


def find_person_by_identifier(session: Session, kind: str, value: str) -> uuid.UUID | None:
    return session.scalar(
        select(IdentifierRow.person_id).where(
            IdentifierRow.kind == kind, IdentifierRow.value == value, IdentifierRow.active
        )
    )


def create_person(
    session: Session,
    *,
    facts: Sequence[NewFact],
    now: dt.datetime,
    person_id: uuid.UUID | None = None,
) -> AppendResult:
    """Register a new person with their first facts (usually identity and identifiers)."""
    person_id = person_id or uuid.uuid4()
    session.add(Person(id=person_id, created_at=now))
    session.flush()
    return append_facts(session, person_id=person_id, facts=facts, now=now)


def append_facts(
    session: Session,
    *,
    person_id: uuid.UUID,
    facts: Sequence[NewFact],
    now: dt.datetime,
    expected_version: int | None = None,
) -> AppendResult:
    """Append facts to a person's journal and refresh their projection in the same transaction.

    Re-sending a fact with the same (source, source record id) and the same content is a no-op
    reported as a duplicate; the same id with other content raises ``ConflictingResend``.
    Re-sends are recognised before ``expected_version`` is checked: a client re-sending a command
    whose answer it lost still holds the version it read before the first send, and must get the
    first send's outcome, not ``StaleVersion``. The version is checked before the first fact
    that is new.
    """
    projection = _lock_projection(session, person_id)
    history = load_facts(session, person_id)
    version = max((f.seq for f in history), default=0)
    result = AppendResult(person_id=person_id, version=version)
    own_ids = {f.id for f in history}
    for new in facts:
        existing = _existing_fact(session, new)
        if existing is not None:
            if existing.person_id != person_id or not new.same_content_as(existing):
                raise ConflictingResend(source=new.source, source_record_id=new.source_record_id)
            result.duplicates.append(existing)
            continue
        if not result.appended and expected_version not in (None, version):
            raise StaleVersion(expected=expected_version, actual=version)
        if new.supersedes_id is not None and new.supersedes_id not in own_ids:
            raise InvalidFact([("supersedes_id", "is not a fact of this person")])
        version += 1
        fact = _add_fact(session, person_id=person_id, seq=version, new=new, now=now)
        own_ids.add(fact.id)
        history.append(fact)
        result.appended.append(fact)
    result.version = version
    if result.appended:
        state = fold(person_id, history)
        _store_identifiers(session, state)
        _store_projection(session, projection, state)
    return result


def _lock_projection(session: Session, person_id: uuid.UUID) -> PersonStateRow | None:
    # Row lock on PostgreSQL serialises concurrent appends to one person; SQLite has one writer.
    if session.get(Person, person_id) is None:
        raise PersonNotFound(str(person_id))
    return session.scalar(
        select(PersonStateRow).where(PersonStateRow.person_id == person_id).with_for_update()
    )


def _existing_fact(session: Session, new: NewFact) -> Fact | None:
    row = session.scalar(
        select(FactRow).where(
            FactRow.source == new.source, FactRow.source_record_id == new.source_record_id
        )
    )
    return fact_from_row(row) if row is not None else None


def _add_fact(
    session: Session, *, person_id: uuid.UUID, seq: int, new: NewFact, now: dt.datetime
) -> Fact:
    fact = journal_fact(new, person_id=person_id, seq=seq, now=now)
    session.add(FactRow(**fact_columns(fact)))
    return fact


def journal_fact(new: NewFact, *, person_id: uuid.UUID, seq: int, now: dt.datetime) -> Fact:
    """The journal entry a new fact becomes (its payload validated: ``InvalidFact``)."""
    return Fact(
        id=uuid.uuid4(),
        person_id=person_id,
        seq=seq,
        kind=new.kind.value,
        payload=new.validated_payload(),
        recorded_at=now,
        source=new.source,
        source_record_id=new.source_record_id,
        legal_basis=new.legal_basis,
        actor=new.actor,
        valid_from=new.valid_from,
        valid_to=new.valid_to,
        supersedes_id=new.supersedes_id,
    )


def fact_columns(fact: Fact) -> dict[str, Any]:
    return {
        "id": fact.id,
        "person_id": fact.person_id,
        "seq": fact.seq,
        "kind": fact.kind,
        "payload": fact.payload,
        "valid_from": fact.valid_from,
        "valid_to": fact.valid_to,
        "recorded_at": fact.recorded_at,
        "source": fact.source,
        "source_record_id": fact.source_record_id,
        "legal_basis": fact.legal_basis,
        "actor": fact.actor,
        "supersedes_id": fact.supersedes_id,
    }


def identifier_rows(state: PersonState) -> list[dict[str, Any]]:
    return [
        {
            "person_id": state.person_id,
            "kind": entry.data["identifier_kind"],
            "value": entry.data["value"],
            "active": entry.data.get("status", "active") == "active",
            "fact_id": entry.fact_id,
        }
        for entry in state.identifiers
    ]


def _store_identifiers(session: Session, state: PersonState) -> None:
    rows = identifier_rows(state)
    for row in rows:
        if not row["active"]:
            continue
        owner = find_person_by_identifier(session, row["kind"], row["value"])
        if owner is not None and owner != state.person_id:
            raise IdentifierTaken(row["kind"])
    session.execute(delete(IdentifierRow).where(IdentifierRow.person_id == state.person_id))
    session.flush()
    session.add_all(IdentifierRow(**row) for row in rows)


def _store_projection(session: Session, current: PersonStateRow | None, state: PersonState) -> None:
    row = projection_row(state)
    changes = name_count_changes(_row_names(current) if current else None, row)
    if current is None:
        session.add(PersonStateRow(**row))
    else:
        for column, value in row.items():
            setattr(current, column, value)
    add_name_counts(session.connection(), changes)


def _row_names(row: PersonStateRow) -> dict[str, Any]:
    return {"surname": row.surname, "given_name": row.given_name, "patronymic": row.patronymic}


def iter_person_ids(session: Session, *, batch_size: int = 1000) -> Iterator[list[uuid.UUID]]:
    last: uuid.UUID | None = None
    while True:
        query = select(Person.id).order_by(Person.id).limit(batch_size)
        if last is not None:
            query = query.where(Person.id > last)
        batch = list(session.scalars(query))
        if not batch:
            return
        yield batch
        last = batch[-1]


@dataclass
class RebuildReport:
    persons: int = 0
    changed: int = 0
    name_keys: int = 0


def rebuild_projections(session: Session, *, batch_size: int = 1000) -> RebuildReport:
    """Recompute every projection row and identifier from the journal; report what differed."""
    report = RebuildReport()
    for person_ids in iter_person_ids(session, batch_size=batch_size):
        facts_by_person = _facts_for(session, person_ids)
        for person_id in person_ids:
            state = fold(person_id, facts_by_person.get(person_id, []))
            row = projection_row(state)
            current = session.get(PersonStateRow, person_id)
            report.persons += 1
            if current is None or _projection_differs(current, row):
                report.changed += 1
                if current is None:
                    session.add(PersonStateRow(**row))
                else:
                    for column, value in row.items():
                        setattr(current, column, value)
            session.execute(delete(IdentifierRow).where(IdentifierRow.person_id == person_id))
            session.add_all(IdentifierRow(**r) for r in identifier_rows(state))
        session.flush()
        session.expunge_all()
    report.name_keys = rebuild_name_dictionary(session)
    return report


def _facts_for(session: Session, person_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Fact]]:
    by_person: dict[uuid.UUID, list[Fact]] = {}
    rows = session.scalars(
        select(FactRow).where(FactRow.person_id.in_(person_ids)).order_by(FactRow.seq)
    )
    for row in rows:
        by_person.setdefault(row.person_id, []).append(fact_from_row(row))
    return by_person


def projection_as_row(row: PersonStateRow) -> dict[str, Any]:
    """The stored projection as a plain dict comparable with ``projection_row``."""
    return {
        column.key: _comparable(getattr(row, column.key))
        for column in PersonStateRow.__table__.columns
    }


def _comparable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _aware(value)
    return value


def _projection_differs(current: PersonStateRow, row: dict[str, Any]) -> bool:
    stored = projection_as_row(current)
    return any(stored[key] != _comparable(value) for key, value in row.items())


def rebuild_name_dictionary(session: Session) -> int:
    """Recount the name dictionary from the projections (after bulk loads or repairs)."""
    counts: dict[tuple[str, str], list[Any]] = {}
    rows = session.execute(
        select(PersonStateRow.surname, PersonStateRow.given_name, PersonStateRow.patronymic)
    )
    for surname, given_name, patronymic in rows:
        names = {"surname": surname, "given_name": given_name, "patronymic": patronymic}
        for part, key, latin_key in name_dictionary_entries(names):
            counts.setdefault((part, key), [latin_key, 0])[1] += 1
    session.execute(update(NameKeyRow).values(frequency=0))
    for (part, key), (latin_key, frequency) in counts.items():
        entry = session.get(NameKeyRow, (part, key))
        if entry is None:
            session.add(NameKeyRow(part=part, key=key, latin_key=latin_key, frequency=frequency))
        else:
            entry.frequency = frequency
    session.execute(delete(NameKeyRow).where(NameKeyRow.frequency == 0))
    session.flush()
    return len(counts)


def kinds_of(facts: Sequence[Fact]) -> list[str]:
    return [FactKind(f.kind).value for f in facts]
