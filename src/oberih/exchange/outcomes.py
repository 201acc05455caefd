"""How a record ends: parsing it, its identity decision, its final state, its audit event.

Shared by the two paths of intake (``services.Processor``: one record at a time, for an
officer's decision and as the fallback; ``chunks``: a chunk of records in one transaction), so
that a record ends the same way whichever path took it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, fields
from typing import Any

import orjson
from pydantic import ValidationError

from oberih.audit.events import AuditEvent, as_utc
from oberih.exchange.messages import Message, parse_message, parse_source
from oberih.exchange.models import ExchangeRecord, RecordState
from oberih.exchange.resolution import Resolution
from oberih.persons.facts import InvalidFact
from oberih.persons.services import ConflictingResend, IdentifierTaken, PersonNotFound


@dataclass(slots=True)
class ClaimedRecord:
    """A record claimed by a chunk (``chunks``), read by Core: the ORM's per-object work, and
    its UPDATE per record at flush, cost more than the record's processing. Its final state is
    written for the whole chunk at once (``outcome_row``)."""

    batch_id: uuid.UUID
    position: int
    source: str
    source_record_id: str | None
    message_type: str | None
    raw: str
    content_hash: str
    state: str
    reason: str | None = None
    person_id: uuid.UUID | None = None
    processed_at: dt.datetime | None = None

    def outcome_row(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "position": self.position,
            "state": self.state,
            "reason": self.reason,
            "person_id": self.person_id,
            "processed_at": self.processed_at,
        }


AnyRecord = ExchangeRecord | ClaimedRecord
CLAIMED_COLUMNS = tuple(field.name for field in fields(ClaimedRecord))


class Quarantine(Exception):
    """The record cannot be read: it ends quarantined with ``reason``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def load_document(raw: str) -> Any:
    """The JSON document of a line, or ``Quarantine`` when the register cannot read or store it.

    orjson: three times json's speed on every record of a feed, and stricter (NaN, Infinity,
    integers past 64 bits, lone surrogates and nesting past 1,024 levels are not JSON, so they
    are malformed here). A NUL character is JSON but no text column of PostgreSQL can hold it.
    """
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Quarantine(f"malformed: not JSON ({exc.msg}, column {exc.colno})") from None
    # A NUL in a string is spelled \u0000 in the line (a raw one refuses the batch): the walk
    # only for the lines that spell it.
    if "\\u0000" in raw and _holds_nul(document):
        raise Quarantine("malformed: a string holds a NUL character (\\u0000)")
    return document


def _holds_nul(document: Any) -> bool:
    # A stack, not recursion: a document may be nested deeper than Python's recursion limit.
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


# How far a source's clock may run ahead of the register's. Servers kept by NTP differ by
# seconds and a workstation's clock by minutes; an hour also takes a clock left on the other
# side of a daylight-saving change. Further ahead, ``recorded_at`` is wrong, not late, and the
# payload's acts checked against it (``Envelope.act_dates``) could be dated in the future: a
# death next week, a fitness decision that outranks every real one.
CLOCK_TOLERANCE = dt.timedelta(hours=1)


def parse_record(record: AnyRecord, *, received_at: dt.datetime | None = None) -> Message:
    """The record's message, or ``Quarantine``; with ``received_at`` (its batch's), one the
    source recorded later than that (beyond ``CLOCK_TOLERANCE``) is invalid."""
    document = load_document(record.raw)
    try:
        message = parse_message(parse_source(record.source), document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_input=False)[:10]
        )
        raise Quarantine(f"invalid: {problems}"[:1000]) from None
    # Without an offset, UTC: SQLite returns stored times so, and a message's time without one
    # is read as RFC 3339 would have it written (the schema's "date-time" requires an offset).
    if (
        received_at is not None
        and as_utc(message.recorded_at) > as_utc(received_at) + CLOCK_TOLERANCE
    ):
        raise Quarantine("invalid: recorded_at is more than an hour after the batch was received")
    return message


def decision(
    record: AnyRecord, resolution: Resolution, now: dt.datetime, *, outcome: str
) -> dict[str, Any]:
    """The ``exchange_link_decision`` row of a system decision about ``record``."""
    return {
        "batch_id": record.batch_id,
        "position": record.position,
        "outcome": outcome,
        "method": resolution.method,
        "person_id": resolution.person_id if outcome in ("link", "review") else None,
        "score": resolution.score,
        "fields": resolution.fields,
        "decided_at": now,
        "actor": f"system:exchange:{record.source}",
    }


def finish(
    record: AnyRecord,
    state: RecordState,
    reason: str | None,
    *,
    person_id: uuid.UUID | None = None,
) -> None:
    record.state = state
    record.reason = reason[:1000] if reason else None
    record.person_id = person_id


def reason_of(problem: Exception) -> str:
    slug = {
        InvalidFact: "invalid-fact",
        ConflictingResend: "conflict",
        IdentifierTaken: "identifier-taken",
        PersonNotFound: "person-not-found",
    }[type(problem)]
    return f"{slug}: {problem}"


def applied_event(record: AnyRecord, person_id: uuid.UUID) -> AuditEvent:
    """The audit event of a record's facts appended to a person's journal."""
    return AuditEvent(
        action="person:fact:append",
        outcome="allowed",
        actor=f"source:{record.source}",
        role="source_register",
        office_code=None,
        purpose=None,
        person_id=person_id,
        fields=(record.message_type or "record",),
        request_id=f"batch-{record.batch_id.hex[:16]}-{record.position}"[:64],
    )
