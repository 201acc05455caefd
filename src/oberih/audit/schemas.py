"""API contract of the audit log (pydantic): checkpoints, proofs, events and citizens' accesses.

Hashes travel as standard base64, as in C2SP checkpoints. ORM rows are not the contract.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Sequence

from pydantic import BaseModel, Field

from oberih.audit.services import RecordedEvent, StoredCheckpoint


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


class CheckpointRead(BaseModel):
    """The latest signed tree head; ``note`` is the C2SP signed note, verbatim."""

    origin: str
    tree_size: int
    root_hash: str = Field(description="base64 SHA-256 root of the first tree_size events")
    note: str = Field(description="c2sp.org/tlog-checkpoint text with its Ed25519 signature")
    created_at: dt.datetime

    @classmethod
    def of(cls, checkpoint: StoredCheckpoint) -> CheckpointRead:
        return cls(
            origin=checkpoint.origin,
            tree_size=checkpoint.tree_size,
            root_hash=b64(checkpoint.root_hash),
            note=checkpoint.note,
            created_at=checkpoint.created_at,
        )


class InclusionProofRead(BaseModel):
    """RFC 9162 §2.1.3 audit path of event ``index`` in the tree of ``tree_size`` events."""

    index: int
    tree_size: int
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || canonical event bytes)")
    hashes: list[str] = Field(description="base64 sibling hashes, lowest first")


class ConsistencyProofRead(BaseModel):
    """RFC 9162 §2.1.4 proof that the tree of ``new_size`` extends the one of ``old_size``."""

    old_size: int
    new_size: int
    hashes: list[str]


class AuditEventRead(BaseModel):
    """One audit event as an auditor sees it: every column of its canonical bytes."""

    index: int
    recorded_at: dt.datetime
    action: str
    outcome: str
    actor: str
    role: str
    office_code: str | None
    purpose: str | None
    person_id: uuid.UUID | None
    fields: list[str]
    request_id: str | None
    classified_until: dt.date | None
    leaf_hash: str

    @classmethod
    def of(cls, recorded: RecordedEvent) -> AuditEventRead:
        event = recorded.event
        return cls(
            index=recorded.leaf_index,
            recorded_at=recorded.recorded_at,
            action=event.action,
            outcome=event.outcome,
            actor=event.actor,
            role=event.role,
            office_code=event.office_code,
            purpose=event.purpose,
            person_id=event.person_id,
            fields=list(event.fields),
            request_id=event.request_id,
            classified_until=event.classified_until,
            leaf_hash=b64(recorded.leaf_hash),
        )


class AccessRead(BaseModel):
    """An access to the citizen's record: when, which office and role, why, what, outcome.

    The official's own identity (actor) and the request id stay with the auditor, as in
    Estonia's data tracker; ``index`` lets the citizen ask for the event's inclusion proof.
    """

    index: int
    recorded_at: dt.datetime
    role: str
    office_code: str | None
    purpose: str | None
    action: str
    fields: list[str]
    outcome: str

    @classmethod
    def of(cls, recorded: RecordedEvent) -> AccessRead:
        event = recorded.event
        return cls(
            index=recorded.leaf_index,
            recorded_at=recorded.recorded_at,
            role=event.role,
            office_code=event.office_code,
            purpose=event.purpose,
            action=event.action,
            fields=list(event.fields),
            outcome=event.outcome,
        )


class AccessPage(BaseModel):
    """A page of accesses, newest first; ``next_cursor`` is opaque, absent on the last page."""

    items: list[AccessRead]
    next_cursor: str | None = None

    @classmethod
    def of(cls, events: Sequence[RecordedEvent], next_cursor: int | None) -> AccessPage:
        return cls(
            items=[AccessRead.of(recorded) for recorded in events],
            next_cursor=str(next_cursor) if next_cursor is not None else None,
        )
