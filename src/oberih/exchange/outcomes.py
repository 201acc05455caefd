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
from oberih.exchange.messages import DocumentIssued, Message, parse_message, parse_source
from oberih.exchange.models import ExchangeRecord, RecordState
from oberih.exchange.resolution import Resolution, subject_identifiers
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


# The register's words for what pydantic says in its own, where a source's developer would not
# see what to change: pydantic's "Input should have timezone info".
_PROBLEMS = {"timezone_aware": "a time without its UTC offset"}


def parse_record(record: AnyRecord, *, received_at: dt.datetime | None = None) -> Message:
    """The record's message, or ``Quarantine``; with ``received_at`` (its batch's), one the
    source recorded later than that (beyond ``CLOCK_TOLERANCE``) is invalid."""
    document = load_document(record.raw)
    try:
        message = parse_message(parse_source(record.source), document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: "
            f"{_PROBLEMS.get(error['type'], error['msg'])}"
            for error in exc.errors(include_input=False)[:10]
        )
        raise Quarantine(f"invalid: {problems}"[:1000]) from None
    # ``received_at`` without an offset is UTC: SQLite returns stored times so. The message's
    # own time has one (``Envelope.recorded_at``).
    if received_at is not None and message.recorded_at > as_utc(received_at) + CLOCK_TOLERANCE:
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


# Why a record no person was linked to is quarantined. Only ``NO_MATCH`` is tried again after
# a birth (``services.Processor._retry_unmatched``): the person may be registered since.
NO_MATCH = "no-matching-person"
# A record that names no person (no surname and given name) is placed by an identifier it
# carries or not at all, and a birth registers no identifier: retried after births it could
# only end the same way, so it waits for an operator, who replays it once the identifier is
# registered (or corrects it).
UNKNOWN_IDENTIFIER = "unknown-identifier"
NO_IDENTITY = "no-identity"
REJECTED_BY_OFFICER = (
    f"{NO_MATCH}: an officer found that the subject is none of the persons the register "
    "matched; the record is tried again after later births, without them"
)
NOT_SHOWN_AGAIN = "the persons an officer rejected for this record are not shown again"
_IDENTIFIER_NAMES = {
    "rnokpp": "RNOKPP",
    "unzr": "UNZR",
    "id_card": "ID card",
    "passport_booklet": "passport booklet",
    "foreign_passport": "passport for travel abroad",
}


def unmatched_reason(message: Message, resolution: Resolution) -> str:
    """The reason of a record quarantined for want of a person, as an operator reads it: what
    happened, and whether a later birth retries it."""
    if resolution.passed_over:
        return REJECTED_BY_OFFICER
    if resolution.method == "none":  # names no person (``Resolver._probabilistic``)
        return _nameless_reason(message)
    return f"{NO_MATCH}: no person matches the subject"


def _nameless_reason(message: Message) -> str:
    known, invalid = subject_identifiers(message.subject)
    if (
        known
        and isinstance(message, DocumentIssued)
        and message.message_type == "document_invalidated"
    ):
        document = _IDENTIFIER_NAMES[message.payload.document_kind]
        return (
            f"{UNKNOWN_IDENTIFIER}: the register holds no {document} with the number this "
            "invalidation names, and the message names no person: there is nothing to "
            "invalidate. It is not retried after births (a birth brings no document number); "
            "replay it once the document's issuance is applied"
        )
    if known:
        kinds = " or ".join(dict.fromkeys(_IDENTIFIER_NAMES[kind] for kind, _ in known))
        return (
            f"{UNKNOWN_IDENTIFIER}: no person holds the {kinds} the record carries, and it "
            "names no person to compare. It is not retried after births (a birth registers no "
            "identifier); replay it once the identifier is registered"
        )
    carried = " or ".join(_IDENTIFIER_NAMES[kind] for kind in invalid)
    why = f" (its {carried} is invalid)" if carried else ""
    return (
        f"{NO_IDENTITY}: the record names no person and carries no identifier to find one "
        f"by{why}; correct it and replay it"
    )


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
