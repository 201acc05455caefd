"""API contract of persons (pydantic): what the HTTP service reads and writes.

ORM rows are not the contract (STYLE point 6); these are.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oberih.persons.facts import Fact, FactKind
from oberih.persons.state import Entry, PersonState

# Text from callers never holds NUL: it means nothing in a register, and PostgreSQL cannot store it
# (text and jsonb refuse it), so it is refused here, where the caller learns which field it was.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=NO_NUL)]


def _refuse_nul(value: Any) -> Any:
    """``value`` unchanged; ``ValueError`` if any string in it (keys too) holds NUL."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item)
    return value


class EntryRead(BaseModel):
    """A value with its provenance: the fact, the source and the source's record id."""

    fact_id: uuid.UUID
    source: str
    source_record_id: str
    recorded_at: dt.datetime
    valid_from: dt.date | None
    valid_to: dt.date | None
    data: dict[str, Any]

    @classmethod
    def of(cls, entry: Entry) -> EntryRead:
        return cls(
            fact_id=entry.fact_id,
            source=entry.source,
            source_record_id=entry.source_record_id,
            recorded_at=entry.recorded_at,
            valid_from=entry.valid_from,
            valid_to=entry.valid_to,
            data=entry.data,
        )


def _one(entry: Entry | None) -> EntryRead | None:
    return EntryRead.of(entry) if entry else None


def _many(entries: list[Entry]) -> list[EntryRead]:
    return [EntryRead.of(e) for e in entries]


class PersonRead(BaseModel):
    person_id: uuid.UUID
    version: int
    valid_at: dt.date | None = None
    known_at: dt.datetime | None = None
    identity: EntryRead | None = None
    death: EntryRead | None = None
    registered_address: EntryRead | None = None
    actual_address: EntryRead | None = None
    phone: EntryRead | None = None
    email: EntryRead | None = None
    military_registration: EntryRead | None = None
    medical_decision: EntryRead | None = None
    identifiers: list[EntryRead] = []
    family: list[EntryRead] = []
    education: list[EntryRead] = []
    employment: list[EntryRead] = []
    disability: list[EntryRead] = []
    deferrals: list[EntryRead] = []
    reservations: list[EntryRead] = []
    service: list[EntryRead] = []
    border_crossings: list[EntryRead] = []

    @classmethod
    def of(
        cls,
        state: PersonState,
        *,
        valid_at: dt.date | None = None,
        known_at: dt.datetime | None = None,
    ) -> PersonRead:
        return cls(
            person_id=state.person_id,
            version=state.version,
            valid_at=valid_at,
            known_at=known_at,
            identity=_one(state.identity),
            death=_one(state.death),
            registered_address=_one(state.registered_address),
            actual_address=_one(state.actual_address),
            phone=_one(state.phone),
            email=_one(state.email),
            military_registration=_one(state.military_registration),
            medical_decision=_one(state.medical_decision),
            identifiers=_many(state.identifiers),
            family=_many(state.family),
            education=_many(state.education),
            employment=_many(state.employment),
            disability=_many(state.disability),
            deferrals=_many(state.deferrals),
            reservations=_many(state.reservations),
            service=_many(state.service),
            border_crossings=_many(state.border_crossings),
        )

    def shown_fields(self) -> list[str]:
        """Top-level fields that carry data (recorded in the audit event of a read)."""
        return [name for name in SHOWN_FIELDS if getattr(self, name)]


# The fields of a person's record a read can show, in order: the audit event of a read names
# those that carry data (an entry, or a non-empty list). ``persons.current`` computes the same
# in SQL from the projected state.
SHOWN_FIELDS = tuple(
    name
    for name in PersonRead.model_fields
    if name not in ("person_id", "version", "valid_at", "known_at")
)


class FactRead(BaseModel):
    id: uuid.UUID
    seq: int
    kind: str
    payload: dict[str, Any]
    valid_from: dt.date | None
    valid_to: dt.date | None
    recorded_at: dt.datetime
    source: str
    source_record_id: str
    legal_basis: str
    actor: str
    supersedes_id: uuid.UUID | None

    @classmethod
    def of(cls, fact: Fact) -> FactRead:
        return cls(
            id=fact.id,
            seq=fact.seq,
            kind=fact.kind,
            payload=fact.payload,
            valid_from=fact.valid_from,
            valid_to=fact.valid_to,
            recorded_at=fact.recorded_at,
            source=fact.source,
            source_record_id=fact.source_record_id,
            legal_basis=fact.legal_basis,
            actor=fact.actor,
            supersedes_id=fact.supersedes_id,
        )


OfficerFactKind = Literal[
    "contact",
    "address",
    "military_registration",
    "medical_decision",
    "deferral",
    "reservation",
    "service",
    "retraction",
]


class OfficerCommand(BaseModel):
    """An officer's change to a person: appended as a fact, with a required legal basis."""

    model_config = ConfigDict(extra="forbid")

    kind: OfficerFactKind
    payload: dict[str, Any]
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    legal_basis: Text = Field(min_length=3, max_length=300, examples=["Res. 1487 p. 31"])
    supersedes_id: uuid.UUID | None = None

    _payload_without_nul = field_validator("payload")(_refuse_nul)

    @property
    def fact_kind(self) -> FactKind:
        return FactKind(self.kind)


class ContactCommand(BaseModel):
    """A citizen's own contacts."""

    model_config = ConfigDict(extra="forbid")

    phone: Text | None = Field(default=None, examples=["+380501234567"])
    email: Text | None = Field(default=None, examples=["citizen@example.org"])


class ActualAddressCommand(BaseModel):
    """A citizen's own actual address (where they live, not the registered one)."""

    model_config = ConfigDict(extra="forbid")

    region: Text = Field(examples=["UA46"])
    hromada: Text
    settlement: Text
    street_line: Text | None = None
    valid_from: dt.date | None = None


class AppendResultRead(BaseModel):
    person_id: uuid.UUID
    version: int
    appended: list[FactRead]
    duplicates: list[FactRead]


class SearchHitRead(BaseModel):
    person_id: uuid.UUID
    score: float
    matched_by: str
    surname: str | None
    given_name: str | None
    patronymic: str | None
    birth_date: dt.date | None
    region: str | None
    office_code: str | None


class ReservationRead(BaseModel):
    """What an employer may see of an employee: the name and the reservation, nothing else."""

    person_id: uuid.UUID
    surname: str | None
    given_name: str | None
    patronymic: str | None
    reservations: list[EntryRead]
