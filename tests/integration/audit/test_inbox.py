"""The audit inbox: requests record events without the head lock; the sequencer makes leaves."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from oberih.audit.models import AuditEventRow, AuditInboxRow
from oberih.audit.services import queue_events, record_event, sequence_inbox, tree_head
from oberih.audit.signing import AuditSigner
from oberih.audit.verification import TamperKind, VerificationReport, verify_log
from oberih.db.engine import is_postgres, make_session_factory
from tests.integration.audit.conftest import ORIGIN, attacker, moment
from tests.unit.audit.factories import audit_event


def _queue(engine: Engine, numbers: range) -> None:
    with make_session_factory(engine)() as session, session.begin():
        queue_events(session, [audit_event(n) for n in numbers], now=moment(numbers.start))


def _sequence(engine: Engine, *, limit: int = 10_000) -> int:
    _wait_until_settled(engine)
    with make_session_factory(engine)() as session, session.begin():
        return sequence_inbox(session, limit=limit)


def _wait_until_settled(engine: Engine) -> None:
    """On PostgreSQL a row is sequenced once every older transaction of the cluster has ended;
    other test workers' transactions may hold that back for a moment."""
    if not is_postgres(engine):
        return
    deadline = time.monotonic() + 10
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            settled = connection.scalar(
                text(
                    "SELECT coalesce(max(txid), 0) < "
                    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint FROM audit_inbox"
                )
            )
            connection.rollback()
            if settled:
                return
            time.sleep(0.05)


def _verify(engine: Engine, signer: AuditSigner) -> VerificationReport:
    with make_session_factory(engine)() as session:
        return verify_log(session, verifier_keys=[signer.verifier()], origin=ORIGIN, batch_size=2)


def _leaves(engine: Engine) -> list[tuple[int, int | None, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditEventRow.leaf_index, AuditEventRow.inbox_id, AuditEventRow.actor).order_by(
                AuditEventRow.leaf_index
            )
        )
        return [(index, inbox_id, actor) for index, inbox_id, actor in rows]


def test_queued_events_become_leaves_in_order_once_sequenced(
    engine: Engine, signer: AuditSigner
) -> None:
    _queue(engine, range(0, 3))
    _queue(engine, range(3, 5))
    with make_session_factory(engine)() as session:
        assert tree_head(session).size == 0  # queued, not yet in the tree

    assert _sequence(engine, limit=4) == 4
    assert _sequence(engine) == 1
    assert _sequence(engine) == 0

    expected_actors = [audit_event(n).actor for n in range(5)]
    leaves = _leaves(engine)
    assert [actor for _, _, actor in leaves] == expected_actors
    assert [inbox_id for _, inbox_id, _ in leaves] == sorted(i for _, i, _ in leaves if i)
    assert _verify(engine, signer).intact


def test_a_direct_append_comes_after_the_settled_inbox_rows(
    engine: Engine, signer: AuditSigner
) -> None:
    _queue(engine, range(0, 2))
    _wait_until_settled(engine)
    with make_session_factory(engine)() as session, session.begin():
        index = record_event(session, audit_event(9), now=moment(9))
    assert index == 2
    assert [inbox_id is None for _, inbox_id, _ in _leaves(engine)] == [False, False, True]
    assert _verify(engine, signer).intact


def test_the_inbox_is_append_only(engine: Engine) -> None:
    _queue(engine, range(0, 1))
    with pytest.raises(DBAPIError), engine.begin() as connection:
        connection.execute(update(AuditInboxRow).values(actor="someone-else"))
    with pytest.raises(DBAPIError), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_inbox"))


def test_verify_finds_a_leaf_whose_inbox_row_was_changed(
    engine: Engine, signer: AuditSigner
) -> None:
    _queue(engine, range(0, 3))
    _sequence(engine)
    with attacker(engine) as connection:
        first = connection.scalar(select(func.min(AuditInboxRow.id)))
        connection.execute(
            update(AuditInboxRow).where(AuditInboxRow.id == first).values(actor="someone-else")
        )
    report = _verify(engine, signer)
    assert [(f.kind, f.index) for f in report.findings] == [(TamperKind.changed, 0)]


def test_verify_finds_a_sequenced_inbox_row_without_its_leaf(
    engine: Engine, signer: AuditSigner
) -> None:
    _queue(engine, range(0, 2))
    _sequence(engine)
    with attacker(engine) as connection:
        connection.execute(
            update(AuditEventRow).where(AuditEventRow.leaf_index == 1).values(inbox_id=None)
        )
    report = _verify(engine, signer)
    assert [f.kind for f in report.findings] == [TamperKind.deleted]
