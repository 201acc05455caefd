"""Stored determinations: an append-only history per person.

A row is appended only when a person's answer changes (its fingerprint differs from their latest
row), so the table is the history of what the register has said about each person, with the
profile version that said it. Keyed by ``person_id`` like every person-centred table.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from oberih.db.base import Base, JsonDocument


class DeterminationRow(Base):
    __tablename__ = "determination"
    __table_args__ = (
        Index("ix_determination_person_id_id", "person_id", "id"),
        # Persons whose answer changes by itself on or before a day (a daily job finds them).
        Index("ix_determination_next_change", "next_change"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    evaluated_on: Mapped[dt.date] = mapped_column(Date)  # the day D the answer is for
    evaluated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    profile_version: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    removal_reason: Mapped[str | None] = mapped_column(String(16))
    mobilisable: Mapped[bool] = mapped_column(Boolean)
    next_change: Mapped[dt.date | None] = mapped_column(Date)
    result_hash: Mapped[str] = mapped_column(String(32))
    result: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
