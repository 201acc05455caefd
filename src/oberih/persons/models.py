"""Tables of the person journal: persons, facts, identifiers and the current-state projection.

Every person-centred table is keyed by ``person_id`` so that it can later be distributed by that
key (Citus) when one PostgreSQL primary is outgrown (ARCHITECTURE decision 9).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from oberih.db.base import Base, JsonDocument

# Search keys are machine keys, compared byte by byte ("C" collation) on PostgreSQL as SQLite's
# BINARY and Python compare them: search results then come in the same order on both engines.
SEARCH_KEY = String(100).with_variant(String(100, collation="C"), "postgresql")


class Person(Base):
    __tablename__ = "person"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FactRow(Base):
    """The journal. Append-only: on PostgreSQL the application role cannot UPDATE or DELETE."""

    __tablename__ = "fact"
    __table_args__ = (
        UniqueConstraint("person_id", "seq"),
        # The source's own record id is the idempotency key of everything it sends.
        UniqueConstraint("source", "source_record_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(32))
    source_record_id: Mapped[str] = mapped_column(String(128))
    legal_basis: Mapped[str] = mapped_column(String(300))
    actor: Mapped[str] = mapped_column(String(128))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class IdentifierRow(Base):
    """National identifiers of persons; each value unique among active ones."""

    __tablename__ = "identifier"
    __table_args__ = (
        Index(
            "uq_identifier_active_kind_value",
            "kind",
            "value",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[str] = mapped_column(String(32), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    fact_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class PersonStateRow(Base):
    """Projection: the fold of all of a person's facts, rewritten with every append."""

    __tablename__ = "person_state"
    __table_args__ = (
        Index("ix_person_state_name_keys", "surname_key", "given_name_key", "birth_year"),
        Index("ix_person_state_office_code", "office_code"),
        # Identity resolution reads a block's persons nearest a birth date (migration 0017).
        Index("ix_person_state_surname_birth", "surname_key", "birth_date", "person_id"),
        # Name search fetches persons key combination by key combination in this order.
        Index(
            "ix_person_state_search_order",
            "surname_key",
            "given_name_key",
            "patronymic_key",
            "birth_date",
            "person_id",
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    surname: Mapped[str | None] = mapped_column(String(100))
    given_name: Mapped[str | None] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    sex: Mapped[str | None] = mapped_column(String(6))
    # Identity resolution compares it for every candidate of a block: read from the JSONB
    # state, each candidate's whole document was decompressed for it (migration 0014).
    birth_place: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(4))
    office_code: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(16))
    date_of_death: Mapped[dt.date | None] = mapped_column(Date)
    surname_key: Mapped[str | None] = mapped_column(SEARCH_KEY)
    given_name_key: Mapped[str | None] = mapped_column(SEARCH_KEY)
    patronymic_key: Mapped[str | None] = mapped_column(SEARCH_KEY)
    last_recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[dict[str, Any]] = mapped_column(JsonDocument)


class NameKeyRow(Base):
    """Dictionary of distinct name keys with their frequency (typo-tolerant search runs here).

    A nation shares few names: matching a misspelled query against the small dictionary first,
    then looking persons up by exact keys, avoids scanning thousands of Шевченко Олександр.
    """

    __tablename__ = "name_key"

    part: Mapped[str] = mapped_column(String(12), primary_key=True)  # surname|given|patronymic
    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # normalised Cyrillic
    latin_key: Mapped[str] = mapped_column(String(120), index=True)
    frequency: Mapped[int] = mapped_column(Integer)
