from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import Engine

from oberih.audit.services import CheckpointPolicy, latest_checkpoint, record_event
from oberih.audit.signing import AuditSigner
from oberih.audit.tasks import run_checkpoints, sign_due_checkpoint
from oberih.db.engine import make_session_factory
from tests.integration.audit.conftest import moment
from tests.unit.audit.factories import audit_event

POLICY = CheckpointPolicy(every_events=2, every_seconds=3600)


def test_a_due_checkpoint_is_signed_and_committed(engine: Engine, signer: AuditSigner) -> None:
    sessions = make_session_factory(engine)
    assert sign_due_checkpoint(sessions, signer=signer, policy=POLICY, now=moment(0)) is None
    with sessions() as session, session.begin():
        record_event(session, audit_event(0), now=moment(0))
    signed = sign_due_checkpoint(sessions, signer=signer, policy=POLICY, now=moment(1))
    assert signed is not None and signed.tree_size == 1
    with sessions() as session:
        assert latest_checkpoint(session) == signed


def test_the_loop_signs_until_cancelled(engine: Engine, signer: AuditSigner) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        record_event(session, audit_event(0), now=moment(0))

    async def run_briefly() -> None:
        task = asyncio.create_task(
            run_checkpoints(
                sessions, signer=signer, policy=POLICY, clock=lambda: moment(1), poll_seconds=0.01
            )
        )
        for _ in range(500):
            await asyncio.sleep(0.01)
            with sessions() as session:
                if latest_checkpoint(session) is not None:
                    break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run_briefly())
    with sessions() as session:
        checkpoint = latest_checkpoint(session)
    assert checkpoint is not None and checkpoint.tree_size == 1
