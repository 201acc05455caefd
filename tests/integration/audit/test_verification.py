"""Tampering with the stored audit log, as a database superuser would, is found and named."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.orm import Session

from oberih.audit.merkle import CompactRange, root_hash
from oberih.audit.models import AuditCheckpointRow, AuditEventRow, AuditNodeRow, AuditTreeRow
from oberih.audit.signing import AuditSigner
from oberih.audit.verification import (
    Finding,
    TamperKind,
    VerificationReport,
    recompute_leaf_hash,
    verify_log,
)
from oberih.db.engine import make_session_factory
from tests.integration.audit.conftest import ORIGIN, attacker, record_log

EVENTS = 10
CHECKPOINTS = (4, 8)
event_table = AuditEventRow.__table__
node_table = AuditNodeRow.__table__
CONTENT = [c.name for c in event_table.columns if c.name != "leaf_index"]


@pytest.fixture
def log(session: Session, signer: AuditSigner) -> Session:
    record_log(session, signer, events=EVENTS, checkpoints=CHECKPOINTS)
    return session


def verify(
    engine: Engine, signer: AuditSigner, *, external: tuple[str, ...] = ()
) -> VerificationReport:
    # A fresh session, and batches of 3 so that every scenario crosses batch boundaries.
    with make_session_factory(engine)() as session:
        return verify_log(
            session,
            verifier_keys=[signer.verifier()],
            origin=ORIGIN,
            external_checkpoints=external,
            batch_size=3,
        )


def first_finding(report: VerificationReport) -> Finding:
    assert not report.intact
    return report.findings[0]


def read_row(connection: Connection, index: int) -> dict[str, Any]:
    row = connection.execute(select(event_table).where(event_table.c.leaf_index == index))
    return dict(row.mappings().one())


def write_content(connection: Connection, index: int, values: dict[str, Any]) -> None:
    connection.execute(
        update(event_table).where(event_table.c.leaf_index == index).values(**values)
    )


def move(connection: Connection, old: int, new: int) -> None:
    write_content(connection, old, {"leaf_index": new})


def content(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in CONTENT}


def rebuild_tree(connection: Connection) -> None:
    """The thorough attacker: every node and the head recomputed from the events as they are."""
    rows = connection.execute(select(event_table).order_by(event_table.c.leaf_index))
    leaves = [recompute_leaf_hash(row) for row in rows]
    tree = CompactRange()
    nodes = tree.extend(leaf for leaf in leaves if leaf is not None)
    connection.execute(delete(node_table))
    connection.execute(
        insert(node_table), [{"level": n.level, "node_index": n.index, "hash": h} for n, h in nodes]
    )
    connection.execute(update(AuditTreeRow.__table__).values(compact_range=tree.to_bytes()))


def test_an_untouched_log_is_intact(log: Session, engine: Engine, signer: AuditSigner) -> None:
    report = verify(engine, signer)
    assert report.intact, report.findings
    assert (report.tree_size, report.checkpoints) == (EVENTS, len(CHECKPOINTS))
    hashes = [row.leaf_hash for row in log.scalars(select(AuditEventRow))]
    assert report.root_hash == root_hash(hashes)


def test_the_empty_log_is_intact(engine: Engine, signer: AuditSigner) -> None:
    assert verify(engine, signer).intact


def test_an_edit_in_place_is_changed(log: Session, engine: Engine, signer: AuditSigner) -> None:
    with attacker(engine) as connection:
        write_content(connection, 5, {"purpose": "nothing to see"})
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.changed, 5)
    assert "edited in place" in finding.detail


def test_an_edit_with_its_hash_column_is_changed(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        row = read_row(connection, 5) | {"office_code": "TCC-UA80-01"}
        write_content(connection, 5, {"office_code": "TCC-UA80-01"})
        write_content(connection, 5, {"leaf_hash": recompute_leaf_hash(_Row(row))})
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.changed, 5)
    assert "rewritten" in finding.detail


def test_an_edit_with_its_committed_leaf_is_caught_by_the_parent_node(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        row = read_row(connection, 5) | {"outcome": "denied"}
        forged = recompute_leaf_hash(_Row(row))
        write_content(connection, 5, {"outcome": "denied", "leaf_hash": forged})
        connection.execute(
            update(node_table)
            .where(node_table.c.level == 0, node_table.c.node_index == 5)
            .values(hash=forged)
        )
    finding = first_finding(verify(engine, signer))
    # The node over [4, 6) no longer matches and the checkpoint of size 8 confirms it.
    assert (finding.kind, finding.index) == (TamperKind.changed, 4)


def test_an_edit_with_the_whole_tree_rebuilt_is_caught_by_the_checkpoint(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        write_content(connection, 5, {"purpose": "rewritten"})
        row = read_row(connection, 5)
        write_content(connection, 5, {"leaf_hash": recompute_leaf_hash(_Row(row))})
        rebuild_tree(connection)
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.changed, 4)  # after checkpoint 4
    assert "[4, 8)" in finding.detail


def test_a_deleted_event_is_deleted(log: Session, engine: Engine, signer: AuditSigner) -> None:
    with attacker(engine) as connection:
        connection.execute(delete(event_table).where(event_table.c.leaf_index == 5))
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.deleted, 5)


def test_the_deleted_last_event_is_deleted(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        connection.execute(delete(event_table).where(event_table.c.leaf_index == EVENTS - 1))
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.deleted, EVENTS - 1)


def test_a_cut_tail_with_its_tree_is_deleted_by_the_checkpoint(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        connection.execute(delete(event_table).where(event_table.c.leaf_index >= 6))
        rebuild_tree(connection)  # nodes and head now describe 6 events
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.deleted, 6)


def test_a_deletion_with_renumbering_is_deleted(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        connection.execute(delete(event_table).where(event_table.c.leaf_index == 5))
        for index in range(6, EVENTS):
            move(connection, index, index - 1)
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.deleted, 5)
    assert "renumbered" in finding.detail


def test_an_event_added_at_the_end_is_inserted(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        forged = read_row(connection, 3) | {"leaf_index": EVENTS, "request_id": "forged"}
        connection.execute(insert(event_table).values(**forged))
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.inserted, EVENTS)


def test_an_event_slipped_in_with_renumbering_is_inserted(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        forged = read_row(connection, 5) | {"request_id": "forged"}
        for index in reversed(range(5, EVENTS)):
            move(connection, index, index + 1)
        connection.execute(insert(event_table).values(**forged))
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.inserted, 5)
    assert "renumbered" in finding.detail


def test_a_duplicated_event_is_inserted(log: Session, engine: Engine, signer: AuditSigner) -> None:
    with attacker(engine) as connection:
        write_content(connection, 5, content(read_row(connection, 2)))
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.inserted, 5)
    assert "duplicate of event 2" in finding.detail


def test_swapped_rows_are_reordered(log: Session, engine: Engine, signer: AuditSigner) -> None:
    with attacker(engine) as connection:
        move(connection, 2, -1)
        move(connection, 6, 2)
        move(connection, -1, 6)
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.reordered, 2)
    assert "events 2 and 6 were swapped" in finding.detail


def test_swapped_contents_are_reordered(log: Session, engine: Engine, signer: AuditSigner) -> None:
    with attacker(engine) as connection:
        second, sixth = read_row(connection, 2), read_row(connection, 6)
        keep_hash = {"leaf_hash": second["leaf_hash"]}
        write_content(connection, 2, content(sixth) | keep_hash)
        write_content(connection, 6, content(second) | {"leaf_hash": sixth["leaf_hash"]})
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.reordered, 2)


def test_swapped_neighbours_are_reordered(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        move(connection, 5, -1)
        move(connection, 6, 5)
        move(connection, -1, 6)
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.reordered, 5)


def test_an_altered_leaf_hash_column_is_changed(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        write_content(connection, 7, {"leaf_hash": bytes(32)})
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.changed, 7)


def test_a_content_that_is_no_event_is_changed(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        write_content(connection, 1, {"outcome": "whatever"})
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.changed, 1)


def test_an_altered_tree_node_is_tree_damage(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        connection.execute(
            update(node_table)
            .where(node_table.c.level == 1, node_table.c.node_index == 0)
            .values(hash=bytes(32))
        )
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.tree, 0)
    assert "events themselves still match" in finding.detail


def test_a_rolled_back_head_is_tree_damage(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        rows = connection.execute(
            select(event_table.c.leaf_hash).order_by(event_table.c.leaf_index)
        )
        tree = CompactRange()
        tree.extend([leaf for (leaf,) in rows][:7])
        connection.execute(update(AuditTreeRow.__table__).values(compact_range=tree.to_bytes()))
    finding = first_finding(verify(engine, signer))
    assert (finding.kind, finding.index) == (TamperKind.tree, 7)


def test_a_forged_head_edge_is_tree_damage(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    forged = CompactRange(EVENTS, [bytes(32)] * EVENTS.bit_count())
    with attacker(engine) as connection:
        connection.execute(update(AuditTreeRow.__table__).values(compact_range=forged.to_bytes()))
    finding = first_finding(verify(engine, signer))
    assert finding.kind == TamperKind.tree


def test_a_forged_checkpoint_is_named(log: Session, engine: Engine, signer: AuditSigner) -> None:
    stranger = AuditSigner.generate(origin=ORIGIN)
    forged_root = root_hash([bytes(32)] * 8)
    forged = stranger.sign_checkpoint(tree_size=8, root_hash=forged_root)
    with attacker(engine) as connection:
        connection.execute(
            update(AuditCheckpointRow.__table__)
            .where(AuditCheckpointRow.tree_size == 8)
            .values(note=forged, root_hash=forged_root)
        )
    report = verify(engine, signer)
    finding = first_finding(report)
    assert finding.kind == TamperKind.checkpoint
    assert "size 8 does not verify" in finding.detail
    assert report.findings[1:] == []  # the events still match the genuine checkpoint 4


def test_checkpoint_columns_that_disagree_with_the_note_are_named(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    with attacker(engine) as connection:
        connection.execute(
            update(AuditCheckpointRow.__table__)
            .where(AuditCheckpointRow.tree_size == 4)
            .values(root_hash=bytes(32))
        )
    finding = first_finding(verify(engine, signer))
    assert finding.kind == TamperKind.checkpoint
    assert "differ from its signed note" in finding.detail


def test_external_checkpoints_survive_a_wiped_checkpoint_table(
    log: Session, engine: Engine, signer: AuditSigner
) -> None:
    published = log.scalar(select(AuditCheckpointRow.note).where(AuditCheckpointRow.tree_size == 8))
    assert published is not None
    with attacker(engine) as connection:
        connection.execute(delete(AuditCheckpointRow.__table__))
        write_content(connection, 5, {"purpose": "rewritten"})
        row = read_row(connection, 5)
        write_content(connection, 5, {"leaf_hash": recompute_leaf_hash(_Row(row))})
        rebuild_tree(connection)
    # Without a signed root nothing contradicts a log rebuilt from scratch...
    assert verify(engine, signer).intact
    # ...which is why checkpoints are published and kept outside the database.
    finding = first_finding(verify(engine, signer, external=(published,)))
    assert (finding.kind, finding.index) == (TamperKind.changed, 0)
    assert "external checkpoint 1" in finding.detail


def test_progress_is_reported_per_batch(log: Session, engine: Engine, signer: AuditSigner) -> None:
    calls: list[tuple[int, int]] = []
    with make_session_factory(engine)() as session:
        verify_log(
            session,
            verifier_keys=[signer.verifier()],
            progress=lambda done, total: calls.append((done, total)),
            batch_size=4,
        )
    assert calls == [(4, EVENTS), (8, EVENTS), (EVENTS, EVENTS)]


class _Row:
    """Attribute access over a row dictionary, for ``recompute_leaf_hash``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
