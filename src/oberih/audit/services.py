"""The audit log's storage operations: append, checkpoint, proofs and "who saw my data".

Services add to the caller's session; the caller commits (the request dependency, the CLI), so
an audit event commits or rolls back together with the access it records.

Appends are serialised by the tree head row: ``record_event`` locks it (``SELECT … FOR UPDATE``
on PostgreSQL; on SQLite a write of the row takes the single writer lock) until the caller's
transaction ends, so every leaf index
is taken exactly once and the stored edge always matches the stored leaves. Record the event
as the last step of a transaction: the lock is held until the commit. The leaf index is also
the primary key, so even a broken lock could never give two events one position.

Requests do not take that lock: ``queue_events`` writes their events to the audit inbox in the
request's transaction (decision 7: the event commits with the access), and ``sequence_inbox``
(the background task, ``oberih audit checkpoint``/``verify``, a direct append) makes the settled
rows leaves in ``(txid, id)`` order. Leaf order is therefore sequencing order, close to but not
exactly commit order; ``oberih audit verify`` checks that every sequenced inbox row became
exactly one leaf, in order, with the same content.

Exceptions (mapped to HTTP once, at the edge):
- ``InvalidAuditEvent`` (from ``events``): an event the caller built wrongly.
- ``InvalidProofRequest``: a proof asked for an index or sizes the log does not have (422).
- ``EventNotFound``: no event at this leaf index (404).
- ``AuditLogDamaged``: stored tree data is missing or contradicts itself; run
  ``oberih audit verify`` (500).
"""

from __future__ import annotations

import datetime as dt
import operator
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, insert, or_, select, text, tuple_, update
from sqlalchemy.orm import Session

from oberih.audit.checkpoints import parse_checkpoint_text
from oberih.audit.events import (
    CONTENT_COLUMNS,
    AuditEvent,
    InvalidAuditEvent,
    as_utc,
    columns_leaf_hash,
    event_from_columns,
    event_leaf_hash,
    utc_moment,
)
from oberih.audit.merkle import (
    HASH_SIZE,
    CompactRange,
    NodeId,
    consistency_proof_from_nodes,
    consistency_proof_ranges,
    inclusion_proof_from_nodes,
    inclusion_proof_ranges,
    nodes_for_ranges,
)
from oberih.audit.models import (
    HEAD_ROW_ID,
    AuditCheckpointRow,
    AuditEventRow,
    AuditInboxRow,
    AuditNodeRow,
    AuditTreeRow,
)
from oberih.audit.signing import AuditSettings, CheckpointSigner
from oberih.db.base import Base
from oberih.db.copy import copy_rows

__all__ = [
    "AccessPage",
    "AuditEvent",
    "AuditLogDamaged",
    "CheckpointPolicy",
    "EventNotFound",
    "InvalidAuditEvent",
    "InvalidProofRequest",
    "RecordedEvent",
    "StoredCheckpoint",
    "TreeHead",
    "checkpoint_if_due",
    "consistency_proof",
    "event_from_row",
    "events_for_person",
    "get_event",
    "inclusion_proof",
    "latest_checkpoint",
    "queue_events",
    "queue_events_through_driver",
    "read_logged_parameters",
    "record_event",
    "record_events",
    "sequence_inbox",
    "sign_checkpoint_now",
    "tree_head",
    "with_read_logged",
]

MAX_PAGE = 200
# Inbox rows a direct append sequences first; a larger backlog is the background task's work.
DIRECT_APPEND_SEQUENCING = 1_000


class InvalidProofRequest(ValueError):
    """A proof for a leaf index or tree sizes outside the log as it stands."""


class EventNotFound(LookupError):
    pass


class AuditLogDamaged(RuntimeError):
    """Stored tree data is missing or inconsistent: evidence for ``oberih audit verify``."""


@dataclass(frozen=True, slots=True)
class TreeHead:
    size: int
    root_hash: bytes


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str  # the C2SP signed note: checkpoint text, blank line, signature lines
    created_at: dt.datetime

    @property
    def origin(self) -> str:
        return parse_checkpoint_text(self.note.split("\n\n", 1)[0] + "\n").origin


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """Sign after ``every_events`` new events or ``every_seconds``, whichever comes first."""

    every_events: int
    every_seconds: float

    @classmethod
    def from_settings(cls, settings: AuditSettings) -> CheckpointPolicy:
        return cls(settings.checkpoint_every_events, settings.checkpoint_every_seconds)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    leaf_index: int
    recorded_at: dt.datetime
    event: AuditEvent
    leaf_hash: bytes  # as stored with the row; verification recomputes it


@dataclass(slots=True)
class AccessPage:
    """A page of a person's visible audit events, newest first."""

    events: list[RecordedEvent] = field(default_factory=list)
    next_cursor: int | None = None  # pass back as ``cursor`` for the next (older) page


# --- appending ---------------------------------------------------------------------------------


def record_event(session: Session, event: AuditEvent, *, now: dt.datetime) -> int:
    """Append ``event`` as the next leaf, in the caller's transaction; return its leaf index."""
    return record_events(session, [event], now=now)[0]


def record_events(session: Session, events: Sequence[AuditEvent], *, now: dt.datetime) -> list[int]:
    """Append several events under one lock and one head update (batch paths: ingest, import).

    One head update per batch matters on PostgreSQL: every update of the head row inside one
    transaction leaves a row version that later reads of it must step over.
    """
    if not events:
        return []
    recorded_at = utc_moment(now)
    tree = _lock_head(session)
    # The inbox's settled rows go first, so that a direct append never lands ahead of accesses
    # committed before it.
    _sequence_locked(session, tree, limit=DIRECT_APPEND_SEQUENCING)
    return _append_leaves(session, tree, [_Leaf(event, recorded_at) for event in events])


@dataclass(frozen=True, slots=True)
class _Leaf:
    event: AuditEvent
    recorded_at: dt.datetime
    inbox_id: int | None = None


def _append_leaves(
    session: Session,
    tree: CompactRange,
    items: Sequence[_Leaf],
    *,
    inbox_position: tuple[int, int] | None = None,
) -> list[int]:
    """Append ``items`` as the next leaves of the locked ``tree``; one head update."""
    leaves = [event_leaf_hash(item.event, recorded_at=item.recorded_at) for item in items]
    connection = session.connection()

    def write_events(first: int) -> None:
        _insert_rows(
            connection,
            AuditEventRow,
            [
                _event_columns(item, first + offset, leaf)
                for offset, (item, leaf) in enumerate(zip(items, leaves, strict=True))
            ],
        )

    return _append_hashed(connection, tree, leaves, write_events, inbox_position=inbox_position)


def _append_hashed(
    connection: Connection,
    tree: CompactRange,
    leaves: list[bytes],
    write_events: Callable[[int], None],
    *,
    inbox_position: tuple[int, int] | None = None,
) -> list[int]:
    """Append the leaves ``leaves`` to the locked ``tree``: their event rows by
    ``write_events(first leaf index)``, the subtrees they complete, one head update."""
    first = tree.size
    completed = tree.extend(leaves)
    # Executed on the connection, as Core: the ORM bulk paths (identity map synchronisation) cost
    # more CPU than the statements, and the head row lock is held meanwhile.
    write_events(first)
    if connection.dialect.name == "postgresql":
        if completed:
            _copy_nodes(connection, completed)
    else:
        _insert_rows(
            connection,
            AuditNodeRow,
            [{"level": n.level, "node_index": n.index, "hash": h} for n, h in completed],
        )
    head: dict[str, object] = {"size": tree.size, "compact_range": tree.to_bytes()}
    if inbox_position is not None:
        head["inbox_txid"], head["inbox_id"] = inbox_position
    connection.execute(update(AuditTreeRow).where(AuditTreeRow.id == HEAD_ROW_ID).values(head))
    return list(range(first, tree.size))


def _insert_rows(connection: Connection, table: type[Base], rows: list[dict[str, object]]) -> None:
    """Insert ``rows`` (all with the same keys); on PostgreSQL with COPY, the text written here
    (``db.copy``): psycopg's ``executemany`` sends one statement per row, and adapting value by
    value costs several times what formatting the COPY text does, while the head row lock is
    held."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        copy_rows(cursor, table.__tablename__, list(rows[0]), rows)
    finally:
        cursor.close()


def _copy_from_inbox(
    connection: Connection, inbox_ids: Sequence[int], leaves: list[bytes], *, first: int
) -> None:
    """PostgreSQL: the leaves' rows copied from their inbox rows by the database, given only
    each one's inbox id and leaf hash. Formatting every column of every event as COPY text was
    a third of the sequencer's CPU, and the sequencer shares the machine with the requests.
    The content copied is the content hashed: the rows were read in this transaction, and the
    inbox refuses UPDATE (``oberih audit verify`` recomputes every leaf from the stored row
    all the same). Ids travel as one text and hashes as one byte string (``_packed``)."""
    content = ", ".join(CONTENT_COLUMNS)
    from_inbox = ", ".join(f"inbox.{name}" for name in CONTENT_COLUMNS)
    connection.exec_driver_sql(
        f"INSERT INTO {AuditEventRow.__tablename__} (leaf_index, leaf_hash, inbox_id, {content}) "
        f"SELECT %(first)s + new.position - 1, {_PACKED_HASH}, inbox.id, {from_inbox} "
        "FROM unnest(string_to_array(%(inbox_ids)s, ',')::bigint[]) "
        "WITH ORDINALITY AS new(inbox_id, position) "
        f"JOIN {AuditInboxRow.__tablename__} AS inbox ON inbox.id = new.inbox_id",
        {"first": first, **_packed(inbox_ids=inbox_ids, hashes=leaves)},
    )


def _copy_nodes(connection: Connection, completed: list[tuple[NodeId, bytes]]) -> None:
    """PostgreSQL: the completed subtrees' hashes, packed as ``_copy_from_inbox`` packs."""
    connection.exec_driver_sql(
        f"INSERT INTO {AuditNodeRow.__tablename__} (level, node_index, hash) "
        f"SELECT new.level, new.node_index, {_PACKED_HASH} "
        "FROM unnest(string_to_array(%(levels)s, ',')::smallint[], "
        "string_to_array(%(indexes)s, ',')::bigint[]) "
        "WITH ORDINALITY AS new(level, node_index, position)",
        _packed(
            levels=[node.level for node, _hash in completed],
            indexes=[node.index for node, _hash in completed],
            hashes=[node_hash for _node, node_hash in completed],
        ),
    )


# The ``position``-th 32-byte hash of the ``hashes`` parameter.
_PACKED_HASH = (
    f"substring(%(hashes)s::bytea from (new.position::int - 1) * {HASH_SIZE} + 1 for {HASH_SIZE})"
)


def _packed(*, hashes: list[bytes], **numbers: Sequence[int | None]) -> dict[str, object]:
    """Parameters as one value each: numbers as comma-separated text, the SHA-256 hashes
    concatenated. psycopg adapts a Python list element by element, in Python: two lists of
    ten thousand cost the sequencer more than hashing their events."""
    if any(len(value) != HASH_SIZE for value in hashes):
        raise ValueError("every hash is a SHA-256 digest")
    packed: dict[str, object] = {
        name: ",".join(map(str, values)) for name, values in numbers.items()
    }
    packed["hashes"] = b"".join(hashes)
    return packed


def _event_columns(item: _Leaf, index: int, leaf: bytes) -> dict[str, object]:
    return {
        "leaf_index": index,
        "recorded_at": item.recorded_at,
        **_content_columns(item.event),
        "leaf_hash": leaf,
        "inbox_id": item.inbox_id,
    }


def _content_columns(event: AuditEvent) -> dict[str, object]:
    return {
        "action": event.action,
        "outcome": event.outcome,
        "actor": event.actor,
        "role": event.role,
        "office_code": event.office_code,
        "purpose": event.purpose,
        "person_id": event.person_id,
        "fields": list(event.fields),
        "request_id": event.request_id,
        "classified_until": event.classified_until,
    }


# --- the inbox: appends without the head lock --------------------------------------------------

_CURRENT_TXID = text("pg_current_xact_id()::text::bigint")


def queue_events(session: Session, events: Sequence[AuditEvent], *, now: dt.datetime) -> None:
    """Record ``events`` in the audit inbox, in the caller's transaction, without the head lock.

    They commit or roll back with the access they record (decision 7); ``sequence_inbox`` makes
    them leaves of the tree soon after. Concurrent requests do not wait for one another here.
    """
    if not events:
        return
    recorded_at = utc_moment(now)
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql and len(events) >= _COPY_FROM_EVENTS:
        _copy_into_inbox(connection, events, recorded_at)
        return
    txid: object = _CURRENT_TXID if postgresql else 0
    connection.execute(
        insert(AuditInboxRow).values(txid=txid),  # inline: the same expression for every row
        [{"recorded_at": recorded_at, **_content_columns(event)} for event in events],
    )


# Intake queues a chunk's events (hundreds) at once: COPY costs a fraction of the CPU of the
# multi-row INSERT (SQLAlchemy's and psycopg's handling of thousands of parameters).
_COPY_FROM_EVENTS = 50


def _copy_into_inbox(
    connection: Connection, events: Sequence[AuditEvent], recorded_at: dt.datetime
) -> None:
    """The rows ``queue_events`` inserts, by COPY: the transaction id read once (COPY takes no
    expressions), the ids from the sequence in row order, as the INSERT assigns them."""
    txid = connection.execute(select(_CURRENT_TXID)).scalar_one()
    rows = [{"txid": txid, "recorded_at": recorded_at, **_content_columns(e)} for e in events]
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor:
        copy_rows(cursor, AuditInboxRow.__tablename__, list(rows[0]), rows)


def queue_events_through_driver(
    dbapi_connection: Any, events: Sequence[AuditEvent], *, now: dt.datetime
) -> None:
    """``queue_events`` on PostgreSQL through the driver's connection (psycopg), in its current
    transaction: the same rows, as one multi-row INSERT. For the group commit of reads
    (``oberih.audit.writer``), which every read passes through: there SQLAlchemy's statement
    handling costs about three times the CPU of the INSERT itself.
    """
    if not events:
        return
    statement, parameters = inbox_insert(events, now=now)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(statement, parameters)
    finally:
        cursor.close()


def inbox_insert(events: Sequence[AuditEvent], *, now: dt.datetime) -> tuple[str, list[object]]:
    """The multi-row INSERT of ``events`` into the inbox, for psycopg (PostgreSQL): the SQL and
    its parameters."""
    recorded_at = utc_moment(now)
    # ``fields`` is JSONB (wrapped for psycopg); the other values bind as SQLAlchemy binds them.
    rows = [
        {"recorded_at": recorded_at, **_content_columns(event), "fields": Jsonb(list(event.fields))}
        for event in events
    ]
    columns = list(rows[0])
    values = "(pg_current_xact_id()::text::bigint, " + ", ".join(["%s"] * len(columns)) + ")"
    statement = (
        f"INSERT INTO {AuditInboxRow.__tablename__} (txid, {', '.join(columns)}) "
        f"VALUES {', '.join([values] * len(rows))}"
    )
    return statement, [value for row in rows for value in row.values()]


# --- a read and its audit event in one statement (PostgreSQL) ------------------------------------


def with_read_logged(read_sql: str, *, fields_sql: str, answer_sql: str = "*") -> str:
    """``read_sql`` (a SELECT of at most one row) extended so that, in the same statement and so
    the same transaction, the row it returns records its read in the audit inbox.

    For the register's most frequent request (``persons.current``): in autocommit it is one
    round trip and one durable commit, and no data is returned unless its event is written: if
    the INSERT fails, the statement fails. ``fields_sql`` is the event's ``fields`` (a JSONB
    array), computed from the row read, available as ``found``; ``answer_sql`` the columns of
    ``found`` returned (all by default: a column read only for ``fields_sql`` need not travel
    back and be parsed). The event's other columns are the parameters
    ``read_logged_parameters`` gives, positional (``%s``), after those of ``read_sql``; a row
    that is not found records nothing (the caller handles what a miss means: not found, or an
    audited denial).
    """
    values = ", ".join(["%s"] * len(_LOGGED_COLUMNS))
    return (
        f"WITH found AS ({read_sql}), logged AS ("
        f"INSERT INTO {AuditInboxRow.__tablename__} (txid, {', '.join(_LOGGED_COLUMNS)}, fields) "
        f"SELECT pg_current_xact_id()::text::bigint, {values}, {fields_sql} FROM found"
        f") SELECT {answer_sql} FROM found"
    )


def read_logged_parameters(event: AuditEvent, *, now: dt.datetime) -> tuple[object, ...]:
    """The parameters of ``with_read_logged``, in its order: the event's columns but its
    ``fields``. Positional: psycopg maps named parameters to positions on every execution, and
    for the eleven of every read that cost a third of what the audit adds to it in the worker."""
    return (utc_moment(now), *_EVENT_VALUES(event))


_LOGGED_COLUMNS = tuple(name for name in CONTENT_COLUMNS if name != "fields")
# The event's attributes named as the columns after ``recorded_at``, as one tuple.
_EVENT_VALUES = operator.attrgetter(*_LOGGED_COLUMNS[1:])


def sequence_inbox(session: Session, *, limit: int = 10_000) -> int:
    """Append up to ``limit`` settled inbox rows as leaves, in ``(txid, id)`` order; return how
    many. Runs in the caller's transaction and holds the head lock until it ends.

    On PostgreSQL identity ids can commit out of order, so rows are ordered by the inserting
    transaction's id and only those below the snapshot's xmin are taken: every transaction
    below it has ended, so no row can later appear behind the stored position (the change
    feed's rule, ``oberih.changes``). SQLite has one writer: ids commit in order (txid 0).
    """
    return _sequence_locked(session, _lock_head(session), limit=limit)


def _sequence_locked(session: Session, tree: CompactRange, *, limit: int) -> int:
    connection = session.connection()
    position = connection.execute(
        select(AuditTreeRow.inbox_txid, AuditTreeRow.inbox_id).where(AuditTreeRow.id == HEAD_ROW_ID)
    ).one()
    if connection.dialect.name == "postgresql":
        return _sequence_postgresql(
            connection, tree, (position.inbox_txid, position.inbox_id), limit
        )
    query = (
        select(AuditInboxRow.__table__)
        .where(
            tuple_(AuditInboxRow.txid, AuditInboxRow.id)
            > tuple_(position.inbox_txid, position.inbox_id)
        )
        .order_by(AuditInboxRow.txid, AuditInboxRow.id)
        .limit(limit)
    )
    rows = list(connection.execute(query))
    if not rows:
        return 0
    items = [_Leaf(event_from_columns(row), aware(row.recorded_at), row.id) for row in rows]
    _append_leaves(session, tree, items, inbox_position=(rows[-1].txid, rows[-1].id))
    return len(rows)


# The settled inbox rows after the sequencer's position, in leaf order: their ids and content.
_SETTLED_INBOX = (
    f"SELECT txid, id, {', '.join(CONTENT_COLUMNS)} FROM {AuditInboxRow.__tablename__} "
    "WHERE (txid, id) > (%(txid)s, %(id)s) "
    "AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint "
    "ORDER BY txid, id LIMIT %(limit)s"
)


def _sequence_postgresql(
    connection: Connection, tree: CompactRange, position: tuple[int, int], limit: int
) -> int:
    """``_sequence_locked`` on PostgreSQL, where the sequencer keeps up with every request: the
    rows read through the driver as tuples and hashed from their columns (``columns_leaf_hash``),
    the leaves' rows copied by the database from the inbox. Building an event object per row
    and SQLAlchemy's row handling were half of the sequencer's CPU."""
    txid, inbox_id = position
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_SETTLED_INBOX, {"txid": txid, "id": inbox_id, "limit": limit})
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return 0
    leaves = [columns_leaf_hash(row[2:]) for row in rows]
    inbox_ids = [row[1] for row in rows]
    _append_hashed(
        connection,
        tree,
        leaves,
        lambda first: _copy_from_inbox(connection, inbox_ids, leaves, first=first),
        inbox_position=(rows[-1][0], rows[-1][1]),
    )
    return len(rows)


def _lock_head(session: Session) -> CompactRange:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # SQLite has no FOR UPDATE, and its driver begins a transaction only at the first write:
        # a read of the head alone would let two appends take the same leaf index. A write of
        # the head row takes SQLite's single writer lock first (others wait: busy_timeout).
        connection.execute(
            update(AuditTreeRow)
            .where(AuditTreeRow.id == HEAD_ROW_ID)
            .values(size=AuditTreeRow.size)
        )
    stored = connection.scalar(
        select(AuditTreeRow.compact_range).where(AuditTreeRow.id == HEAD_ROW_ID).with_for_update()
    )
    return _compact_range(stored)


def _compact_range(stored: bytes | None) -> CompactRange:
    if stored is None:
        raise AuditLogDamaged("the audit tree head row is missing (run `oberih db upgrade`)")
    try:
        return CompactRange.from_bytes(stored)
    except ValueError:
        raise AuditLogDamaged("the audit tree head row is not a stored compact range") from None


def tree_head(session: Session) -> TreeHead:
    """The log's current size and root hash (not yet signed: see ``sign_checkpoint_now``)."""
    stored = session.scalar(
        select(AuditTreeRow.compact_range).where(AuditTreeRow.id == HEAD_ROW_ID)
    )
    tree = _compact_range(stored)
    return TreeHead(size=tree.size, root_hash=tree.root())


# --- checkpoints -------------------------------------------------------------------------------


def sign_checkpoint_now(
    session: Session, *, signer: CheckpointSigner, now: dt.datetime
) -> StoredCheckpoint:
    """Sign and store a checkpoint of the current head; the one already stored if it exists."""
    tree = _lock_head(session)  # no append may slip in between reading the head and signing
    root = tree.root()
    existing = session.get(AuditCheckpointRow, tree.size)
    if existing is not None:
        if existing.root_hash != root:
            raise AuditLogDamaged(
                f"a checkpoint of size {tree.size} with another root is already stored"
            )
        return _checkpoint_from_row(existing)
    note = signer.sign_checkpoint(tree_size=tree.size, root_hash=root)
    row = AuditCheckpointRow(
        tree_size=tree.size, root_hash=root, note=note, created_at=utc_moment(now)
    )
    session.add(row)
    session.flush()
    return _checkpoint_from_row(row)


def checkpoint_if_due(
    session: Session, *, signer: CheckpointSigner, policy: CheckpointPolicy, now: dt.datetime
) -> StoredCheckpoint | None:
    """Sign a checkpoint when the policy says one is due (a periodic task calls this)."""
    head = tree_head(session)
    latest = latest_checkpoint(session)
    if latest is None:
        due = head.size > 0
    else:
        new_events = head.size - latest.tree_size
        age = (utc_moment(now) - latest.created_at).total_seconds()
        due = new_events >= policy.every_events or (new_events > 0 and age >= policy.every_seconds)
    return sign_checkpoint_now(session, signer=signer, now=now) if due else None


def latest_checkpoint(session: Session) -> StoredCheckpoint | None:
    row = session.scalar(
        select(AuditCheckpointRow).order_by(AuditCheckpointRow.tree_size.desc()).limit(1)
    )
    return _checkpoint_from_row(row) if row is not None else None


def _checkpoint_from_row(row: AuditCheckpointRow) -> StoredCheckpoint:
    return StoredCheckpoint(
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        note=row.note,
        created_at=aware(row.created_at),
    )


aware = as_utc  # kept: other modules import it from here


# --- proofs ------------------------------------------------------------------------------------


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[tree_size]) from stored nodes: O(log n) reads, one query."""
    _require_tree_size(session, tree_size)
    if not 0 <= index < tree_size:
        raise InvalidProofRequest(f"leaf index {index} is not in a tree of {tree_size} events")
    stored = _read_nodes(session, nodes_for_ranges(inclusion_proof_ranges(index, tree_size)))
    return inclusion_proof_from_nodes(_StoredNodeReader(stored), index=index, tree_size=tree_size)


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) from stored nodes: O(log n) reads, one query."""
    _require_tree_size(session, new_size)
    if not 0 < old_size <= new_size:
        raise InvalidProofRequest(f"no consistency proof from size {old_size} to {new_size}")
    ranges = consistency_proof_ranges(old_size, new_size)
    stored = _read_nodes(session, nodes_for_ranges(ranges))
    return consistency_proof_from_nodes(
        _StoredNodeReader(stored), old_size=old_size, new_size=new_size
    )


def _require_tree_size(session: Session, tree_size: int) -> None:
    size = tree_head(session).size
    if not 0 < tree_size <= size:
        raise InvalidProofRequest(f"tree size {tree_size} is not within 1..{size}")


def _read_nodes(session: Session, nodes: Sequence[NodeId]) -> dict[NodeId, bytes]:
    if not nodes:
        return {}
    key = tuple_(AuditNodeRow.level, AuditNodeRow.node_index)
    rows = session.execute(
        select(AuditNodeRow.level, AuditNodeRow.node_index, AuditNodeRow.hash).where(
            key.in_([(node.level, node.index) for node in nodes])
        )
    )
    return {NodeId(level, index): value for level, index, value in rows}


class _StoredNodeReader:
    __slots__ = ("_stored",)

    def __init__(self, stored: dict[NodeId, bytes]) -> None:
        self._stored = stored

    def __call__(self, node: NodeId) -> bytes:
        try:
            return self._stored[node]
        except KeyError:
            raise AuditLogDamaged(
                f"tree node (level {node.level}, index {node.index}) is missing"
            ) from None


# --- reading events ----------------------------------------------------------------------------


def event_from_row(row: AuditEventRow) -> RecordedEvent:
    return RecordedEvent(
        leaf_index=row.leaf_index,
        recorded_at=aware(row.recorded_at),
        event=event_from_columns(row),
        leaf_hash=row.leaf_hash,
    )


def get_event(session: Session, index: int) -> RecordedEvent:
    row = session.get(AuditEventRow, index)
    if row is None:
        raise EventNotFound(f"no audit event at leaf index {index}")
    return event_from_row(row)


def events_for_person(
    session: Session,
    person_id: uuid.UUID,
    *,
    now: dt.datetime,
    cursor: int | None = None,
    limit: int = 50,
) -> AccessPage:
    """ "Who saw my data": the person's events, newest first, without still-classified ones.

    An event whose purpose is classified until a date is withheld before that date and shown
    from that date on (UTC), so the citizen eventually sees every access.
    """
    limit = max(1, min(limit, MAX_PAGE))
    today = utc_moment(now).date()
    query = (
        select(AuditEventRow)
        .where(
            AuditEventRow.person_id == person_id,
            or_(AuditEventRow.classified_until.is_(None), AuditEventRow.classified_until <= today),
        )
        .order_by(AuditEventRow.leaf_index.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        query = query.where(AuditEventRow.leaf_index < cursor)
    rows = list(session.scalars(query))
    page = AccessPage(events=[event_from_row(row) for row in rows[:limit]])
    if len(rows) > limit:
        page.next_cursor = page.events[-1].leaf_index
    return page
