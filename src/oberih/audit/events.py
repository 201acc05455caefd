"""Audit events and their canonical bytes: what a leaf of the audit log's Merkle tree commits to.

An event says who (actor, role, office) did what (action, fields, outcome) to whose record
(person id) and why (purpose), when the register recorded it. It holds no personal data beyond
ids: field *names*, never values.

Canonical form (version 1), the bytes whose RFC 6962 leaf hash enters the tree::

    {"action":…,"actor":…,"classified_until":…,"fields":[…],"office_code":…,"outcome":…,
     "person_id":…,"purpose":…,"recorded_at":…,"request_id":…,"role":…,"v":1}

UTF-8 JSON, keys sorted, no whitespace, every key present (``null`` when absent); ``person_id``
is the lower-case hyphenated UUID, ``recorded_at`` UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``,
``classified_until`` ``YYYY-MM-DD``, ``fields`` in the order given. For documents of this shape
(strings, null, one small integer, a list of strings) Python's ``json.dumps`` with sorted keys and
compact separators writes exactly the RFC 8785 JSON Canonicalization Scheme, so an auditor can
recompute a leaf with any JCS library and SHA-256. The leaf index is *not* in the bytes: the
tree binds each leaf to its position, and leaving it out lets a verifier recognise content that
moved (RFC 6962 §2.1 leaves are position-free too).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from oberih.audit.merkle import leaf_hash

CANONICAL_VERSION = 1
OUTCOMES = frozenset({"allowed", "denied", "error"})

# Column widths of ``audit_event`` (models.py); checked here so that a bad event fails before
# it reaches the database, with a message naming the field.
MAX_LENGTHS = {
    "action": 64,
    "actor": 160,
    "role": 32,
    "office_code": 32,
    "purpose": 300,
    "request_id": 64,
}
MAX_FIELDS = 64
MAX_FIELD_NAME = 64
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


# The columns of a stored event, in the order ``columns_leaf_hash`` takes them: ``recorded_at``,
# then the fields of ``AuditEvent`` in the order they are declared.
CONTENT_COLUMNS = (
    "recorded_at",
    "action",
    "outcome",
    "actor",
    "role",
    "office_code",
    "purpose",
    "person_id",
    "fields",
    "request_id",
    "classified_until",
)


class InvalidAuditEvent(ValueError):
    """An audit event that cannot be recorded (a caller bug): the message names the field."""


@dataclass(frozen=True)
class AuditEvent:
    """One access to (or attempt on) the register, as the service layer reports it."""

    action: str  # "person:record:read", "person:search", "person:fact:append", "access:denied"
    outcome: str  # "allowed" | "denied" | "error"
    actor: str
    role: str
    office_code: str | None
    purpose: str | None
    person_id: uuid.UUID | None
    fields: tuple[str, ...]
    request_id: str | None
    classified_until: dt.date | None = None  # classified purpose: hidden from the citizen until

    def __post_init__(self) -> None:
        # A list passed by mistake would make the frozen event mutable and unhashable.
        object.__setattr__(self, "fields", tuple(self.fields))
        if not _plainly_valid(
            self.action,
            self.outcome,
            self.actor,
            self.role,
            self.office_code,
            self.purpose,
            self.person_id,
            self.fields,
            self.request_id,
        ):
            self._refuse_or_accept()

    def _refuse_or_accept(self) -> None:
        """Every rule in turn, raising ``InvalidAuditEvent`` for the first one broken: the slow
        path, for the message that names the field at fault."""
        if self.outcome not in OUTCOMES:
            raise InvalidAuditEvent(f"outcome {self.outcome!r} is not one of {sorted(OUTCOMES)}")
        for name, limit in MAX_LENGTHS.items():
            _require_text(name, getattr(self, name), limit)
        if not (self.action and self.actor and self.role):
            raise InvalidAuditEvent("action, actor and role must not be empty")
        if len(self.fields) > MAX_FIELDS:
            raise InvalidAuditEvent(f"an event names at most {MAX_FIELDS} fields")
        for field_name in self.fields:
            _require_text("fields", field_name, MAX_FIELD_NAME)
        if self.person_id is not None and not isinstance(self.person_id, uuid.UUID):
            raise InvalidAuditEvent("person_id must be a UUID")


def _plainly_valid(
    action: Any,
    outcome: Any,
    actor: Any,
    role: Any,
    office: Any,
    purpose: Any,
    person_id: Any,
    fields: Any,
    request: Any,
) -> bool:
    """Whether an event's columns keep every rule of ``AuditEvent``, checked in one pass: every
    request builds an event and the sequencer hashes each stored one, and checking each string
    apart was a quarter of the sequencer's CPU. ``False`` means the slow path decides
    (``AuditEvent._refuse_or_accept``), which names the rule broken; ``True`` only when every
    rule holds."""
    try:
        if (
            outcome not in OUTCOMES
            or not (action and actor and role)
            or len(action) > _MAX_ACTION
            or len(actor) > _MAX_ACTOR
            or len(role) > _MAX_ROLE
            or (office is not None and len(office) > _MAX_OFFICE)
            or (purpose is not None and len(purpose) > _MAX_PURPOSE)
            or (request is not None and len(request) > _MAX_REQUEST)
            or len(fields) > MAX_FIELDS
            or max(map(len, fields), default=0) > MAX_FIELD_NAME
            or (person_id is not None and not isinstance(person_id, uuid.UUID))
        ):
            return False
        # Absent columns as empty text; anything else that is not text (b"" included, which
        # is as falsy as None) makes the concatenation raise.
        joined = (
            action
            + actor
            + role
            + (office if office is not None else "")
            + (purpose if purpose is not None else "")
            + (request if request is not None else "")
            + "".join(fields)
        )
        return not _CONTROL_CHARACTER.search(joined)
    except TypeError:  # something other than text (or no text): the slow path decides
        return False


# The event's fields as one tuple, in ``CONTENT_COLUMNS`` order (after ``recorded_at``).
_event_values = operator.attrgetter(*CONTENT_COLUMNS[1:])
_MAX_ACTION, _MAX_ACTOR, _MAX_ROLE = (MAX_LENGTHS[n] for n in ("action", "actor", "role"))
_MAX_OFFICE, _MAX_PURPOSE, _MAX_REQUEST = (
    MAX_LENGTHS[n] for n in ("office_code", "purpose", "request_id")
)


def _require_text(name: str, value: object, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidAuditEvent(f"{name} must be text")
    if len(value) > limit:
        raise InvalidAuditEvent(f"{name} is longer than {limit} characters")
    if _CONTROL_CHARACTER.search(value):
        raise InvalidAuditEvent(f"{name} contains a control character")


def utc_moment(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC; a naive datetime is refused (whose clock would it be?)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidAuditEvent("recorded_at must be timezone-aware")
    return moment.astimezone(dt.UTC)


def canonical_timestamp(moment: dt.datetime) -> str:
    return utc_moment(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_document(event: AuditEvent, *, recorded_at: dt.datetime) -> dict[str, Any]:
    return _document(recorded_at, *_event_values(event))


def _document(
    recorded_at: dt.datetime,
    action: str,
    outcome: str,
    actor: str,
    role: str,
    office_code: str | None,
    purpose: str | None,
    person_id: uuid.UUID | None,
    fields: Sequence[str],
    request_id: str | None,
    classified_until: dt.date | None,
) -> dict[str, Any]:
    return {
        "v": CANONICAL_VERSION,
        "action": action,
        "outcome": outcome,
        "actor": actor,
        "role": role,
        "office_code": office_code,
        "purpose": purpose,
        "person_id": str(person_id) if person_id is not None else None,
        "fields": list(fields),
        "request_id": request_id,
        "classified_until": classified_until.isoformat() if classified_until is not None else None,
        "recorded_at": canonical_timestamp(recorded_at),
    }


def canonical_event_bytes(event: AuditEvent, *, recorded_at: dt.datetime) -> bytes:
    """The bytes a leaf commits to (module docstring: canonical form, version 1).

    Written by orjson (sorted keys; it never adds whitespace and writes non-ASCII as UTF-8):
    for these documents, whose strings hold no control characters (``AuditEvent`` refuses
    them), its bytes are those of ``json.dumps(document, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, in a fifth of the time; the sequencer writes one per event.
    """
    return orjson.dumps(canonical_document(event, recorded_at=recorded_at), option=_SORTED)


_SORTED = orjson.OPT_SORT_KEYS


def event_leaf_hash(event: AuditEvent, *, recorded_at: dt.datetime) -> bytes:
    """SHA-256(0x00 || canonical event bytes): the event's leaf hash (RFC 6962 §2.1)."""
    return leaf_hash(canonical_event_bytes(event, recorded_at=recorded_at))


def columns_leaf_hash(columns: Sequence[Any]) -> bytes:
    """The leaf hash of an event stored as ``CONTENT_COLUMNS`` (a row of the inbox or of the
    log, as the driver returns it): what ``event_leaf_hash`` gives for the event those columns
    hold, without building the event, for the sequencer and ``oberih audit verify``, which hash
    every stored one. A row that breaks a rule raises ``InvalidAuditEvent`` as the event would.
    """
    recorded_at, action, outcome, actor, role, office, purpose, person_id, fields, request = (
        columns[:10]
    )
    if not _plainly_valid(
        action, outcome, actor, role, office, purpose, person_id, fields, request
    ):
        event = AuditEvent(*columns[1:])  # raises, naming the rule broken (or holds after all)
        return event_leaf_hash(event, recorded_at=as_utc(recorded_at))
    document = _document(as_utc(recorded_at), *columns[1:])
    return leaf_hash(orjson.dumps(document, option=_SORTED))


def event_from_columns(row: Any) -> AuditEvent:
    """The event an audit row (or inbox row) stores, from its columns as they are now."""
    return AuditEvent(*(getattr(row, name) for name in CONTENT_COLUMNS[1:]))


def as_utc(moment: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; the audit log stores UTC only.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
