"""Tables of the audit log: events (the leaves), tree nodes, the tree head and checkpoints.

Append-only, like the fact journal: on PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE
of events, nodes and checkpoints from every role (migration 0003). The head row is the one
updatable row: it is the writer's cache of the tree's right edge and the lock that orders
concurrent appends, and it may only grow. Whoever bypasses the triggers (a superuser) is what
the Merkle tree is for: ``oberih audit verify`` recomputes everything from the events and checks
it against the signed checkpoints.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from oberih.db.base import Base, JsonDocument

HEAD_ROW_ID = 1
INBOX_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys


class AuditEventRow(Base):
    """One leaf of the tree: an access to the register, its columns as in the canonical bytes."""

    __tablename__ = "audit_event"
    __table_args__ = (
        # "Who saw my data": a person's events, newest first, paged by leaf index.
        Index("ix_audit_event_person_id_leaf_index", "person_id", "leaf_index"),
        Index("ix_audit_event_inbox_id", "inbox_id", unique=True),
    )

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(32))
    office_code: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(300))
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    fields: Mapped[list[str]] = mapped_column(JsonDocument)
    request_id: Mapped[str | None] = mapped_column(String(64))
    classified_until: Mapped[dt.date | None] = mapped_column(Date)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The inbox row this leaf was sequenced from (``audit_inbox``); None for direct appends.
    # Not in the canonical bytes: ``oberih audit verify`` checks the mapping separately.
    inbox_id: Mapped[int | None] = mapped_column(BigInteger)


class AuditInboxRow(Base):
    """An audit event as the request's transaction recorded it, before it became a leaf.

    Requests insert here without the tree head's lock, so concurrent accesses do not serialise;
    the sequencer (``services.sequence_inbox``) later appends committed rows as leaves, in
    ``(txid, id)`` order. Append-only: sequenced rows stay, as evidence of the order.
    """

    __tablename__ = "audit_inbox"
    __table_args__ = (Index("ix_audit_inbox_txid_id", "txid", "id"),)

    id: Mapped[int] = mapped_column(INBOX_ID, primary_key=True, autoincrement=True)
    # PostgreSQL: the inserting transaction's id (rows below the snapshot's xmin are settled);
    # SQLite: 0 (one writer, ids commit in order).
    txid: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(32))
    office_code: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(300))
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    fields: Mapped[list[str]] = mapped_column(JsonDocument)
    request_id: Mapped[str | None] = mapped_column(String(64))
    classified_until: Mapped[dt.date | None] = mapped_column(Date)


class AuditNodeRow(Base):
    """The hash of a complete subtree: leaves ``[index * 2**level, (index + 1) * 2**level)``.

    Written once when the subtree completes, never changed: level 0 holds every leaf hash by
    position (the committed hash of each event, independent of the event row), higher levels
    let proofs be served with O(log n) reads.
    """

    __tablename__ = "audit_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditTreeRow(Base):
    """The tree head: its size and right edge (``CompactRange.to_bytes``). Exactly one row."""

    __tablename__ = "audit_tree"
    __table_args__ = (CheckConstraint(f"id = {HEAD_ROW_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    compact_range: Mapped[bytes] = mapped_column(LargeBinary)
    # The sequencer's position in ``audit_inbox``: the last ``(txid, id)`` appended as a leaf.
    inbox_txid: Mapped[int] = mapped_column(BigInteger, server_default="0")
    inbox_id: Mapped[int] = mapped_column(BigInteger, server_default="0")


class AuditCheckpointRow(Base):
    """A signed tree head (C2SP signed note); one per tree size."""

    __tablename__ = "audit_checkpoint"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
