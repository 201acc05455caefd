"""Tables of the exchange: received batches, their records (the work queue), link decisions and
identity review tasks.

A batch and all its records are stored in one transaction before the sender is answered; the
records are then processed a chunk at a time, each chunk in a transaction of its own, which
moves every record from ``pending`` to exactly one final state. The record rows are the queue:
workers claim pending rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a worker
that dies leaves its records pending for the next one, and no record is applied twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from oberih.changes import models as _changes  # noqa: F401  (outbox hook on facts)
from oberih.db.base import Base, JsonDocument


class RecordState(StrEnum):
    pending = "pending"
    applied = "applied"
    duplicate = "duplicate"
    quarantined = "quarantined"
    review = "review"  # waiting for an officer's identity decision


FINAL_STATES = (
    RecordState.applied,
    RecordState.duplicate,
    RecordState.quarantined,
    RecordState.review,
)


class ExchangeBatch(Base):
    __tablename__ = "exchange_batch"
    __table_args__ = (Index("ix_exchange_batch_source_body_sha256", "source", "body_sha256"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str | None] = mapped_column(String(120))  # None: a trusted operator import
    transport: Mapped[str] = mapped_column(String(8))  # http | file
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    body_sha256: Mapped[str] = mapped_column(String(64))
    record_count: Mapped[int] = mapped_column(Integer)


class ExchangeRecord(Base):
    __tablename__ = "exchange_record"
    __table_args__ = (
        Index("ix_exchange_record_source_source_record_id", "source", "source_record_id"),
        # The queue: each batch's pending records in line order (``services.claim_chunk_rows``).
        Index(
            "ix_exchange_record_pending",
            "batch_id",
            "position",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        # Only quarantined records are looked up by state, in order of processing (0016).
        Index(
            "ix_exchange_record_quarantined",
            "processed_at",
            postgresql_where=text("state = 'quarantined'"),
            sqlite_where=text("state = 'quarantined'"),
        ),
    )

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exchange_batch.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # line number, from 1
    source: Mapped[str] = mapped_column(String(32))
    source_record_id: Mapped[str | None] = mapped_column(String(128))
    message_type: Mapped[str | None] = mapped_column(String(40))
    raw: Mapped[str] = mapped_column(Text)  # the record exactly as received (or as corrected)
    original_raw: Mapped[str | None] = mapped_column(Text)  # as received, once corrected
    content_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(1000))
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LinkDecision(Base):
    """Every identity decision about a record, with its score and the fields that drove it."""

    __tablename__ = "exchange_link_decision"
    __table_args__ = (
        ForeignKeyConstraint(
            ["batch_id", "position"], ["exchange_record.batch_id", "exchange_record.position"]
        ),
        Index("ix_exchange_link_decision_batch_id_position", "batch_id", "position"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # link|review|no_link|new_person|reject
    method: Mapped[str] = mapped_column(String(16))  # identifier|probabilistic|officer|none
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    score: Mapped[float | None] = mapped_column(Float)
    fields: Mapped[dict[str, Any]] = mapped_column(JsonDocument)  # field -> weight or reason
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(160))


class MatchReview(Base):
    """An identity question for an officer: which (if any) candidate is the record about."""

    __tablename__ = "exchange_match_review"
    __table_args__ = (
        ForeignKeyConstraint(
            ["batch_id", "position"], ["exchange_record.batch_id", "exchange_record.position"]
        ),
        Index("ix_exchange_match_review_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(Integer)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)
    status: Mapped[str] = mapped_column(String(16))  # open|linked|rejected
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(160))
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class DuplicateCandidate(Base):
    """Two persons of the register that may be one (``oberih dedup``), for an officer to judge
    (``exchange.duplicates``): merged (confirmed, with the merge that did it) or rejected.
    Undoing the merge reopens the pair (``exchange.merge.undo_merge``).

    A merge that absorbs one of an open pair's persons into a third closes the pair as
    superseded (with that merge) and queues the survivor and the pair's other person in its
    place (``queued_by_merge_id``); undoing the merge reopens the one and withdraws the other.
    """

    __tablename__ = "exchange_duplicate_candidate"
    __table_args__ = (
        UniqueConstraint("person_id", "other_person_id"),
        # The pairs of a person, whichever of the two they are (a merge's, 0021).
        Index("ix_exchange_duplicate_candidate_other_person_id", "other_person_id"),
        # The officers' list: open pairs oldest first, by keyset (0019).
        Index(
            "ix_exchange_duplicate_candidate_open",
            "found_at",
            "id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the smaller id of the pair
    other_person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    score: Mapped[float] = mapped_column(Float)
    fields: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    status: Mapped[str] = mapped_column(String(16))  # open|confirmed|rejected|superseded
    found_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # The decision in force (empty while open); ``merge_id`` (the merge that confirmed or
    # superseded the pair) stays after an undo, so the reopened pair still names the merge
    # that was undone.
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(160))
    merge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The merge that queued this pair in place of a pair it superseded (None: ``oberih dedup``).
    queued_by_merge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class PersonMerge(Base):
    """One person's facts copied onto another (an officer's merge), and its undoing.

    The journal stays append-only: a merge appends copies to the survivor and releases the
    absorbed person's identifiers with new facts; undoing it retracts the copies and restores
    the identifiers, again with new facts. ``copies`` maps each copy's id to its original's.
    """

    __tablename__ = "exchange_person_merge"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    survivor_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    absorbed_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    copies: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    released: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)
    merged_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    merged_by: Mapped[str] = mapped_column(String(160))
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(160))
