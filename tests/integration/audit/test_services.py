from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oberih.audit.checkpoints import verify_checkpoint
from oberih.audit.events import InvalidAuditEvent, event_leaf_hash
from oberih.audit.merkle import (
    EMPTY_ROOT,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from oberih.audit.models import AuditCheckpointRow, AuditEventRow, AuditNodeRow
from oberih.audit.services import (
    CheckpointPolicy,
    EventNotFound,
    InvalidProofRequest,
    TreeHead,
    checkpoint_if_due,
    consistency_proof,
    events_for_person,
    get_event,
    inclusion_proof,
    latest_checkpoint,
    record_event,
    record_events,
    sign_checkpoint_now,
    tree_head,
)
from oberih.audit.signing import AuditSigner
from tests.integration.audit.conftest import ORIGIN, moment, record_log
from tests.unit.audit.factories import PERSON, audit_event


def leaf_hashes(count: int) -> list[bytes]:
    return [event_leaf_hash(audit_event(n), recorded_at=moment(n)) for n in range(count)]


def test_events_get_consecutive_leaf_indexes_and_the_head_follows(session: Session) -> None:
    assert tree_head(session).size == 0
    assert tree_head(session).root_hash == EMPTY_ROOT
    indexes = [record_event(session, audit_event(n), now=moment(n)) for n in range(7)]
    session.commit()
    assert indexes == list(range(7))
    head = tree_head(session)
    assert head.size == 7
    assert head.root_hash == root_hash(leaf_hashes(7))


def test_a_batch_builds_the_same_tree_as_single_appends(session: Session) -> None:
    record_event(session, audit_event(0), now=moment(0))
    batch = [audit_event(n) for n in range(1, 6)]
    assert record_events(session, batch, now=moment(1)) == [1, 2, 3, 4, 5]
    assert record_events(session, [], now=moment(1)) == []
    session.commit()
    expected = [leaf_hashes(1)[0]] + [
        event_leaf_hash(event, recorded_at=moment(1)) for event in batch
    ]
    assert tree_head(session) == TreeHead(size=6, root_hash=root_hash(expected))
    assert session.scalar(select(func.count()).select_from(AuditNodeRow)) == 6 + 3 + 1


def test_the_event_is_stored_as_given(session: Session) -> None:
    event = audit_event(3, classified_until=dt.date(2030, 1, 1))
    index = record_event(session, event, now=moment(3))
    session.commit()
    stored = get_event(session, index)
    assert stored.event == event
    assert stored.recorded_at == moment(3)
    assert stored.leaf_hash == event_leaf_hash(event, recorded_at=moment(3))
    with pytest.raises(EventNotFound):
        get_event(session, 99)


def test_nodes_hold_every_completed_subtree(session: Session) -> None:
    for n in range(8):
        record_event(session, audit_event(n), now=moment(n))
    session.commit()
    count = session.scalar(select(func.count()).select_from(AuditNodeRow))
    assert count == 8 + 4 + 2 + 1
    top = session.get(AuditNodeRow, (3, 0))
    assert top is not None
    assert top.hash == root_hash(leaf_hashes(8))


def test_a_rolled_back_access_leaves_no_trace(session: Session) -> None:
    record_event(session, audit_event(0), now=moment(0))
    session.commit()
    record_event(session, audit_event(1), now=moment(1))
    session.rollback()
    assert tree_head(session).size == 1
    assert record_event(session, audit_event(2), now=moment(2)) == 1


def test_an_invalid_event_is_refused_before_storage(session: Session) -> None:
    with pytest.raises(InvalidAuditEvent):
        record_event(session, audit_event(), now=dt.datetime(2026, 1, 1))
    assert session.scalar(select(func.count()).select_from(AuditEventRow)) == 0


def test_inclusion_proofs_verify_for_every_index_and_size(session: Session) -> None:
    record_log(session, AuditSigner.generate(origin=ORIGIN), events=13)
    hashes = leaf_hashes(13)
    for tree_size in range(1, 14):
        root = root_hash(hashes[:tree_size])
        for index in range(tree_size):
            proof = inclusion_proof(session, index, tree_size)
            verify_inclusion(
                leaf_hash=hashes[index], index=index, tree_size=tree_size, proof=proof, root=root
            )


def test_consistency_proofs_verify_for_every_pair_of_sizes(session: Session) -> None:
    record_log(session, AuditSigner.generate(origin=ORIGIN), events=11)
    hashes = leaf_hashes(11)
    for new_size in range(1, 12):
        for old_size in range(1, new_size + 1):
            verify_consistency(
                old_size=old_size,
                new_size=new_size,
                proof=consistency_proof(session, old_size, new_size),
                old_root=root_hash(hashes[:old_size]),
                new_root=root_hash(hashes[:new_size]),
            )


@pytest.mark.parametrize(
    ("index", "tree_size"), [(0, 0), (3, 3), (-1, 2), (0, 6)], ids=["empty", "index", "neg", "big"]
)
def test_proofs_outside_the_log_are_refused(session: Session, index: int, tree_size: int) -> None:
    record_log(session, AuditSigner.generate(origin=ORIGIN), events=5)
    with pytest.raises(InvalidProofRequest):
        inclusion_proof(session, index, tree_size)


@pytest.mark.parametrize(("old_size", "new_size"), [(0, 3), (4, 3), (2, 6)])
def test_consistency_outside_the_log_is_refused(
    session: Session, old_size: int, new_size: int
) -> None:
    record_log(session, AuditSigner.generate(origin=ORIGIN), events=5)
    with pytest.raises(InvalidProofRequest):
        consistency_proof(session, old_size, new_size)


def test_checkpoint_signs_the_current_head(session: Session, signer: AuditSigner) -> None:
    record_log(session, signer, events=5)
    stored = sign_checkpoint_now(session, signer=signer, now=moment(10))
    session.commit()
    checkpoint = verify_checkpoint(
        stored.note, key_name=signer.key_name, public_key=signer.public_key, origin=ORIGIN
    )
    assert (checkpoint.tree_size, checkpoint.root_hash) == (5, root_hash(leaf_hashes(5)))
    assert stored.origin == ORIGIN
    assert latest_checkpoint(session) == stored


def test_checkpoint_at_the_same_size_is_the_stored_one(
    session: Session, signer: AuditSigner
) -> None:
    record_log(session, signer, events=3)
    first = sign_checkpoint_now(session, signer=signer, now=moment(10))
    again = sign_checkpoint_now(session, signer=signer, now=moment(20))
    session.commit()
    assert again == first
    assert session.scalar(select(func.count()).select_from(AuditCheckpointRow)) == 1


def test_the_empty_log_can_be_checkpointed(session: Session, signer: AuditSigner) -> None:
    stored = sign_checkpoint_now(session, signer=signer, now=moment(0))
    assert (stored.tree_size, stored.root_hash) == (0, EMPTY_ROOT)


def test_checkpoint_is_due_after_n_events_or_t_seconds(
    session: Session, signer: AuditSigner
) -> None:
    policy = CheckpointPolicy(every_events=3, every_seconds=60)
    start = moment(0)
    assert checkpoint_if_due(session, signer=signer, policy=policy, now=start) is None
    record_event(session, audit_event(0), now=start)
    first = checkpoint_if_due(session, signer=signer, policy=policy, now=start)
    assert first is not None and first.tree_size == 1  # the first one as soon as there is one
    record_event(session, audit_event(1), now=start)
    assert checkpoint_if_due(session, signer=signer, policy=policy, now=start) is None
    later = start + dt.timedelta(seconds=60)
    by_time = checkpoint_if_due(session, signer=signer, policy=policy, now=later)
    assert by_time is not None and by_time.tree_size == 2
    for n in range(2, 5):
        record_event(session, audit_event(n), now=later)
    by_count = checkpoint_if_due(session, signer=signer, policy=policy, now=later)
    assert by_count is not None and by_count.tree_size == 5
    much_later = later + dt.timedelta(hours=1)
    assert checkpoint_if_due(session, signer=signer, policy=policy, now=much_later) is None


def test_who_saw_my_data_pages_newest_first(session: Session) -> None:
    other = uuid.uuid4()
    for n in range(5):
        record_event(session, audit_event(n), now=moment(n))
        record_event(session, audit_event(n, person_id=other), now=moment(n))
    session.commit()
    first = events_for_person(session, PERSON, now=moment(100), limit=3)
    assert [e.leaf_index for e in first.events] == [8, 6, 4]
    assert first.next_cursor == 4
    second = events_for_person(session, PERSON, now=moment(100), cursor=4, limit=3)
    assert [e.leaf_index for e in second.events] == [2, 0]
    assert second.next_cursor is None
    assert all(e.event.person_id == PERSON for e in first.events + second.events)


def test_classified_accesses_appear_once_their_date_has_come(session: Session) -> None:
    until = dt.date(2027, 6, 1)
    record_event(session, audit_event(0), now=moment(0))
    record_event(session, audit_event(1, classified_until=until), now=moment(1))
    session.commit()

    def visible(on: dt.datetime) -> list[int]:
        return [e.leaf_index for e in events_for_person(session, PERSON, now=on).events]

    assert visible(dt.datetime(2027, 5, 31, 23, 59, tzinfo=dt.UTC)) == [0]
    assert visible(dt.datetime(2027, 6, 1, tzinfo=dt.UTC)) == [1, 0]
