"""``oberih audit verify``: recompute the tree from the stored events, check every checkpoint.

What is stored, and what each part is trusted for:

* **signed checkpoints** (tree size, root hash, Ed25519 signature): the anchor. An attacker with
  database superuser rights can rewrite rows but cannot sign; a root that the recomputed events
  no longer produce proves tampering somewhere below that size.
* **level-0 tree nodes**: the hash *committed* at each position when the event was appended,
  kept apart from the event row. Comparing it with the hash *recomputed* from the row's columns
  (never the row's own ``leaf_hash``) names the first position that differs, and searching the
  committed hashes for the recomputed one tells what happened there.
* **higher tree nodes and the head**: recomputed on the way and compared, so that rows rewritten
  together with their level-0 hashes are still caught below the first checkpoint.

At the first position ``p`` whose event differs, the kind is read from where content went:

* **deleted**: no event at ``p`` although the tree, the head or a checkpoint covers it; or ``p``
  holds the content committed at ``p + 1`` (a row removed and the rest renumbered).
* **inserted**: an event beyond the end of the tree; ``p + 1`` holds the content committed at
  ``p`` (a row slipped in, the rest renumbered); or ``p`` repeats an intact event's content.
* **reordered**: ``p`` holds content committed elsewhere, and that content is not where it was
  committed (two rows swapped: each holds the other's committed hash).
* **changed**: ``p``'s content matches no committed hash (edited in place, or rewritten with
  its hashes, which the next higher node or checkpoint then exposes).
* **checkpoint** / **tree**: a checkpoint whose signature fails, or stored tree data (nodes,
  head) altered while the events themselves still match the signed roots.

Events after the last signed checkpoint are protected only by the stored nodes: sign often
(``checkpoint_every_events`` / ``_seconds``) and keep published checkpoints outside the database
(``--checkpoint``), or a superuser could also delete the checkpoint rows.

Streams: events and nodes are read in position batches (memory is one batch), with a progress
callback for long runs. Reads need no snapshot: events appended while verifying lie beyond the
planned size, and an event is only reported as inserted when the head, read again at the end,
does not cover it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NoReturn, Protocol

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from oberih.audit.checkpoints import Checkpoint, CheckpointError, VerifierKey, verify_checkpoint
from oberih.audit.events import CONTENT_COLUMNS, InvalidAuditEvent, columns_leaf_hash
from oberih.audit.merkle import EMPTY_ROOT, CompactRange, NodeId
from oberih.audit.models import (
    HEAD_ROW_ID,
    AuditCheckpointRow,
    AuditEventRow,
    AuditInboxRow,
    AuditNodeRow,
    AuditTreeRow,
)

DEFAULT_BATCH = 4096
MAX_FINDINGS = 20
Progress = Callable[[int, int], None]
"""Called with (positions checked, positions planned) after each batch."""


class TamperKind(StrEnum):
    changed = "changed"
    deleted = "deleted"
    inserted = "inserted"
    reordered = "reordered"
    checkpoint = "checkpoint"
    tree = "tree"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: TamperKind
    index: int | None  # the first event position concerned, when there is one
    detail: str

    def __str__(self) -> str:
        where = f"event {self.index}" if self.index is not None else "log"
        return f"{self.kind} at {where}: {self.detail}"


@dataclass(slots=True)
class VerificationReport:
    tree_size: int = 0  # positions verified
    checkpoints: int = 0  # signed checkpoints whose root the events reproduce
    root_hash: bytes = EMPTY_ROOT  # of the recomputed tree, when intact
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


@dataclass(frozen=True, slots=True)
class _TrustedRoot:
    tree_size: int
    root_hash: bytes
    source: str


class _ContentColumns(Protocol):
    """An event's content columns, as ``audit_event`` and ``audit_inbox`` rows share them."""

    @property
    def recorded_at(self) -> dt.datetime: ...
    @property
    def action(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def office_code(self) -> str | None: ...
    @property
    def purpose(self) -> str | None: ...
    @property
    def person_id(self) -> uuid.UUID | None: ...
    @property
    def fields(self) -> list[str]: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def classified_until(self) -> dt.date | None: ...


class _EventColumns(_ContentColumns, Protocol):
    """An ``audit_event`` row as read by Core (attribute access by column name)."""

    @property
    def leaf_index(self) -> int: ...
    @property
    def leaf_hash(self) -> bytes: ...
    @property
    def inbox_id(self) -> int | None: ...


def recompute_leaf_hash(row: _ContentColumns) -> bytes | None:
    """The leaf hash of the row's columns as they are now; None when they are no valid event."""
    try:
        return columns_leaf_hash([getattr(row, name) for name in CONTENT_COLUMNS])
    except (InvalidAuditEvent, TypeError, ValueError):
        return None


def verify_log(
    session: Session,
    *,
    verifier_keys: Sequence[VerifierKey],
    origin: str | None = None,
    external_checkpoints: Sequence[str] = (),
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> VerificationReport:
    """Recompute the tree from every stored event and check it (module docstring)."""
    walk = _Walk(session, verifier_keys=verifier_keys, origin=origin)
    walk.run(external_checkpoints, progress=progress, batch_size=batch_size)
    return walk.report


class _Stop(Exception):
    """The walk found the first tampered position; later ones would only echo it."""


class _Walk:
    def __init__(
        self, session: Session, *, verifier_keys: Sequence[VerifierKey], origin: str | None
    ) -> None:
        self.session = session
        self.keys = verifier_keys
        self.origin = origin
        self.report = VerificationReport()
        self.rebuilt = CompactRange()
        self.head: CompactRange | None = None
        self.suspect: NodeId | None = None  # first higher node that differs, awaiting a root
        self.last_good_checkpoint = 0

    # --- driving ---

    def run(self, external: Sequence[str], *, progress: Progress | None, batch_size: int) -> None:
        try:
            self.head = self._read_head()
            external_roots = self._external_roots(external)
            size = self._planned_size(external_roots)
            self._check_roots(self._stored_roots(0, 0) + external_roots.get(0, []))
            self._check_head_at_current_size()
            for start in range(0, size, batch_size):
                end = min(start + batch_size, size)
                self._walk_batch(start, end, external_roots)
                if progress is not None:
                    progress(end, size)
            self._finish(size)
            self._check_inbox(batch_size)
        except _Stop:
            return
        self.report.tree_size = size
        self.report.root_hash = self.rebuilt.root()

    def _walk_batch(
        self, start: int, end: int, external_roots: dict[int, list[_TrustedRoot]]
    ) -> None:
        events = self._events(start, end)
        committed = self._level_zero(start, end)
        upper = self._upper_nodes(start, end)
        stored_roots: dict[int, list[_TrustedRoot]] = defaultdict(list)
        for root in self._stored_roots(start + 1, end):
            stored_roots[root.tree_size].append(root)
        for position in range(start, end):
            self._position(position, events.get(position), committed.get(position), upper)
            size = position + 1
            self._check_roots([*stored_roots.get(size, []), *external_roots.get(size, [])])
            self._check_head_at_current_size()

    def _finish(self, size: int) -> None:
        if self.suspect is not None:
            node = self.suspect
            self._stop(
                TamperKind.changed,
                node.start,
                f"the stored tree node over events [{node.start}, {node.end}) no longer matches "
                "them and no later checkpoint settles it: an event in this range was probably "
                "changed with its stored hash rewritten",
            )
        # Read again: appends committed while we walked move the head on, legitimately.
        head_size = self._read_head_size()
        if head_size < size:
            self._stop(
                TamperKind.tree,
                head_size,
                f"the tree head says {head_size} events, but the tree nodes or a signed "
                f"checkpoint cover {size}: the head was rolled back",
            )
        self._check_extra_events(max(size, head_size))

    # --- one position ---

    def _position(
        self,
        position: int,
        row: _EventColumns | None,
        committed: bytes | None,
        upper: dict[NodeId, bytes],
    ) -> None:
        if row is None:
            self._stop(TamperKind.deleted, position, self._missing_reason(position, committed))
        current = recompute_leaf_hash(row)
        if committed is None:
            self._stop(
                TamperKind.tree,
                position,
                "the hash committed for this event is missing from the tree nodes",
            )
        if current != committed:
            self._classify(position, row, current, committed)
        if row.leaf_hash != current:
            self._stop(
                TamperKind.changed,
                position,
                "the row's leaf_hash column was altered (its content still matches the tree)",
            )
        for node, computed in self.rebuilt.append(current)[1:]:
            if self.suspect is None and upper.get(node) != computed:
                self.suspect = node

    def _missing_reason(self, position: int, committed: bytes | None) -> str:
        if committed is not None:
            return "the event is missing, though its committed hash is in the tree"
        return "the event is missing, though the tree head or a signed checkpoint covers it"

    def _classify(
        self, position: int, row: _EventColumns, current: bytes | None, committed: bytes
    ) -> None:
        if current is None:
            self._stop(TamperKind.changed, position, "the row's content is no valid audit event")
        origin = self._committed_position(current, excluding=position)
        if origin is not None:
            self._classify_moved(position, origin, committed)
        following = self._event(position + 1)
        if following is not None and recompute_leaf_hash(following) == committed:
            self._stop(
                TamperKind.inserted,
                position,
                "a new event was inserted here and the later events renumbered: "
                f"event {position + 1} holds the content committed at {position}",
            )
        if row.leaf_hash == committed:
            detail = "the content was edited in place: it no longer matches the hash committed "
            detail += "for it (the row's own leaf_hash column still holds the original)"
        else:
            detail = "the content was rewritten with its leaf_hash column: it no longer matches "
            detail += "the hash committed in the tree"
        self._stop(TamperKind.changed, position, detail)

    def _classify_moved(self, position: int, origin: int, committed: bytes) -> None:
        """``position`` holds the content committed at ``origin``: swapped, shifted or copied?"""
        other = self._event(origin)
        other_current = recompute_leaf_hash(other) if other is not None else None
        if other_current == committed:
            self._stop(
                TamperKind.reordered,
                position,
                f"events {position} and {origin} were swapped: each holds the content "
                "committed at the other's position",
            )
        if origin == position + 1:
            self._stop(
                TamperKind.deleted,
                position,
                f"the event was deleted and the later events renumbered: event {position} "
                f"holds the content committed at {origin}",
            )
        if other_current is not None and other_current == self._committed_at(origin):
            self._stop(
                TamperKind.inserted,
                position,
                f"the event was replaced by a duplicate of event {origin}",
            )
        self._stop(
            TamperKind.reordered,
            position,
            f"event {position} holds the content committed at {origin}: events were moved",
        )

    # --- checkpoints and the head ---

    def _check_roots(self, roots: Iterable[_TrustedRoot]) -> None:
        for root in roots:
            if root.root_hash == self.rebuilt.root():
                self._confirm(root)
                continue
            first = self.suspect.start if self.suspect else self.last_good_checkpoint
            self._stop(
                TamperKind.changed,
                first,
                f"events [{self.last_good_checkpoint}, {root.tree_size}) no longer produce the "
                f"root signed in {root.source}: an event in this range was changed and its "
                "stored hashes rewritten to match",
            )

    def _confirm(self, root: _TrustedRoot) -> None:
        if self.suspect is not None:
            node = self.suspect
            self._stop(
                TamperKind.tree,
                node.start,
                f"the stored tree node (level {node.level}, index {node.index}) is altered or "
                f"missing; the events themselves still match {root.source}",
            )
        self.report.checkpoints += 1
        self.last_good_checkpoint = root.tree_size

    def _check_head_at_current_size(self) -> None:
        head = self.head
        if head is not None and head.size == self.rebuilt.size and head != self.rebuilt:
            self._stop(
                TamperKind.tree,
                None,
                "the tree head's edge hashes do not match the events: later appends "
                "would build on a forged tree",
            )

    def _check_extra_events(self, end: int) -> None:
        while True:
            extra = self.session.scalar(
                select(func.min(AuditEventRow.leaf_index)).where(AuditEventRow.leaf_index >= end)
            )
            if extra is None:
                break
            # An append commits its event with the head: a head read after seeing the event
            # covers it, unless the event was never appended.
            head_size = self._read_head_size()
            if extra >= head_size:
                self._stop(
                    TamperKind.inserted,
                    extra,
                    f"the event lies beyond the end of the tree ({head_size} events): "
                    "it was never appended",
                )
            end = head_size
        negative = self.session.scalar(
            select(func.min(AuditEventRow.leaf_index)).where(AuditEventRow.leaf_index < 0)
        )
        if negative is not None:
            self._stop(TamperKind.inserted, negative, "the event has a negative position")

    # --- the inbox ---

    def _check_inbox(self, batch_size: int) -> None:
        """Every inbox row up to the sequencer's stored position became exactly one leaf, in
        ``(txid, id)`` order, with the same content; no leaf claims an inbox row beyond it."""
        head = self.session.execute(
            select(AuditTreeRow.size, AuditTreeRow.inbox_txid, AuditTreeRow.inbox_id).where(
                AuditTreeRow.id == HEAD_ROW_ID
            )
        ).first()
        if head is None:
            return  # reported by the walk already
        position = (head.inbox_txid, head.inbox_id)
        inbox_after: tuple[int, int] = (-1, -1)
        leaf_after = -1
        while True:
            inbox = list(
                self.session.execute(
                    select(AuditInboxRow.__table__)
                    .where(
                        tuple_(AuditInboxRow.txid, AuditInboxRow.id) > tuple_(*inbox_after),
                        tuple_(AuditInboxRow.txid, AuditInboxRow.id) <= tuple_(*position),
                    )
                    .order_by(AuditInboxRow.txid, AuditInboxRow.id)
                    .limit(batch_size)
                )
            )
            leaves: list[_EventColumns] = list(
                self.session.execute(
                    select(AuditEventRow.__table__)
                    .where(
                        AuditEventRow.inbox_id.is_not(None),
                        AuditEventRow.leaf_index > leaf_after,
                        AuditEventRow.leaf_index < head.size,
                    )
                    .order_by(AuditEventRow.leaf_index)
                    .limit(batch_size)
                )
            )
            for row, leaf in zip(inbox, leaves, strict=False):
                self._check_sequenced(row, leaf)
            if len(inbox) != len(leaves):
                self._inbox_mismatch(inbox, leaves)
            if not inbox:
                return
            inbox_after = (inbox[-1].txid, inbox[-1].id)
            leaf_after = leaves[-1].leaf_index

    def _check_sequenced(self, row: Any, leaf: _EventColumns) -> None:
        if leaf.inbox_id != row.id:
            self._stop(
                TamperKind.reordered,
                leaf.leaf_index,
                f"the leaf holds inbox row {leaf.inbox_id} where inbox row {row.id} was due: "
                "inbox rows became leaves out of order, twice, or not at all",
            )
        if recompute_leaf_hash(row) != recompute_leaf_hash(leaf):
            self._stop(
                TamperKind.changed,
                leaf.leaf_index,
                f"the leaf's content differs from inbox row {row.id} it was sequenced from",
            )

    def _inbox_mismatch(self, inbox: list[Any], leaves: list[_EventColumns]) -> NoReturn:
        if len(inbox) > len(leaves):
            missing = inbox[len(leaves)].id
            self._stop(
                TamperKind.deleted,
                None,
                f"inbox row {missing} was sequenced (the head's inbox position covers it) "
                "but no leaf holds it",
            )
        extra = leaves[len(inbox)]
        self._stop(
            TamperKind.inserted,
            extra.leaf_index,
            f"the leaf claims inbox row {extra.inbox_id}, which is not a sequenced inbox row",
        )

    def _stop(self, kind: TamperKind, index: int | None, detail: str) -> NoReturn:
        self._add(Finding(kind, index, detail))
        raise _Stop

    def _add(self, finding: Finding) -> None:
        self.report.findings.append(finding)
        if len(self.report.findings) >= MAX_FINDINGS:
            raise _Stop

    # --- reading ---

    def _read_head(self) -> CompactRange | None:
        stored = self.session.scalar(
            select(AuditTreeRow.compact_range).where(AuditTreeRow.id == HEAD_ROW_ID)
        )
        try:
            return CompactRange.from_bytes(stored) if stored is not None else None
        except ValueError:
            pass
        self._add(Finding(TamperKind.tree, None, "the tree head row is missing or unreadable"))
        return None

    def _read_head_size(self) -> int:
        head = self._read_head()
        return head.size if head is not None else 0

    def _planned_size(self, external_roots: dict[int, list[_TrustedRoot]]) -> int:
        """Every position that must hold an event: covered by the head, a node or a root."""
        last_leaf = self.session.scalar(
            select(func.max(AuditNodeRow.node_index)).where(AuditNodeRow.level == 0)
        )
        last_checkpoint = self.session.scalar(select(func.max(AuditCheckpointRow.tree_size)))
        return max(
            self.head.size if self.head is not None else 0,
            last_leaf + 1 if last_leaf is not None else 0,
            last_checkpoint or 0,
            max(external_roots, default=0),
        )

    def _events(self, start: int, end: int) -> dict[int, _EventColumns]:
        rows = self.session.execute(
            select(AuditEventRow.__table__).where(
                AuditEventRow.leaf_index >= start, AuditEventRow.leaf_index < end
            )
        )
        return {row.leaf_index: row for row in rows}

    def _event(self, position: int) -> _EventColumns | None:
        row: _EventColumns | None = self.session.execute(
            select(AuditEventRow.__table__).where(AuditEventRow.leaf_index == position)
        ).first()
        return row

    def _level_zero(self, start: int, end: int) -> dict[int, bytes]:
        rows = self.session.execute(
            select(AuditNodeRow.node_index, AuditNodeRow.hash).where(
                AuditNodeRow.level == 0,
                AuditNodeRow.node_index >= start,
                AuditNodeRow.node_index < end,
            )
        )
        return {index: value for index, value in rows}

    def _committed_at(self, position: int) -> bytes | None:
        return self.session.scalar(
            select(AuditNodeRow.hash).where(
                AuditNodeRow.level == 0, AuditNodeRow.node_index == position
            )
        )

    def _committed_position(self, leaf: bytes, *, excluding: int) -> int | None:
        # A scan of the level-0 hashes, run once, at the first tampered position only.
        return self.session.scalar(
            select(AuditNodeRow.node_index)
            .where(
                AuditNodeRow.level == 0,
                AuditNodeRow.hash == leaf,
                AuditNodeRow.node_index != excluding,
            )
            .order_by(AuditNodeRow.node_index)
            .limit(1)
        )

    def _upper_nodes(self, start: int, end: int) -> dict[NodeId, bytes]:
        """Stored nodes of level >= 1 that appending leaves ``[start, end)`` completes."""
        ranges = []
        for level in range(1, end.bit_length() + 1):
            first, last = start >> level, (end >> level) - 1  # nodes ending in (start, end]
            if first <= last:
                ranges.append(
                    and_(AuditNodeRow.level == level, AuditNodeRow.node_index.between(first, last))
                )
        if not ranges:
            return {}
        rows = self.session.execute(
            select(AuditNodeRow.level, AuditNodeRow.node_index, AuditNodeRow.hash).where(
                or_(*ranges)
            )
        )
        return {NodeId(level, index): value for level, index, value in rows}

    def _stored_roots(self, first: int, last: int) -> list[_TrustedRoot]:
        rows = self.session.execute(
            select(
                AuditCheckpointRow.tree_size, AuditCheckpointRow.root_hash, AuditCheckpointRow.note
            )
            .where(AuditCheckpointRow.tree_size.between(first, last))
            .order_by(AuditCheckpointRow.tree_size)
        )
        roots = []
        for tree_size, root_hash, note in rows:
            source = f"the stored checkpoint of size {tree_size}"
            checkpoint = self._trusted(note, source)
            if checkpoint is None:
                continue
            if (checkpoint.tree_size, checkpoint.root_hash) != (tree_size, root_hash):
                self._add(
                    Finding(
                        TamperKind.checkpoint,
                        None,
                        f"{source}: its size or root columns differ from its signed note",
                    )
                )
            roots.append(_TrustedRoot(checkpoint.tree_size, checkpoint.root_hash, source))
        return roots

    def _external_roots(self, notes: Sequence[str]) -> dict[int, list[_TrustedRoot]]:
        roots: dict[int, list[_TrustedRoot]] = defaultdict(list)
        for number, note in enumerate(notes, start=1):
            checkpoint = self._trusted(note, f"external checkpoint {number}")
            if checkpoint is not None:
                source = f"external checkpoint {number} (size {checkpoint.tree_size})"
                roots[checkpoint.tree_size].append(
                    _TrustedRoot(checkpoint.tree_size, checkpoint.root_hash, source)
                )
        return dict(roots)

    def _trusted(self, note: str, source: str) -> Checkpoint | None:
        """The checkpoint once a trusted key's signature verifies; otherwise a finding."""
        reasons = []
        for key in self.keys:
            try:
                return verify_checkpoint(
                    note, key_name=key.name, public_key=key.public_key, origin=self.origin
                )
            except CheckpointError as exc:
                reasons.append(str(exc))
        reason = "; ".join(reasons) or "no verifier key was given"
        self._add(Finding(TamperKind.checkpoint, None, f"{source} does not verify: {reason}"))
        return None
