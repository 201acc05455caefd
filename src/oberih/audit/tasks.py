"""Background work of the audit log: sign a checkpoint whenever one is due.

The app's lifespan starts ``run_checkpoints`` (one per process; several processes are safe: the
head row lock orders them and a size already signed is not signed again)::

    task = asyncio.create_task(run_checkpoints(sessions, signer=signer, policy=policy))
    yield
    task.cancel()
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from oberih.audit.services import CheckpointPolicy, StoredCheckpoint, checkpoint_if_due
from oberih.audit.signing import CheckpointSigner

logger = logging.getLogger("oberih.audit")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sign_due_checkpoint(
    sessions: sessionmaker[Session],
    *,
    signer: CheckpointSigner,
    policy: CheckpointPolicy,
    now: dt.datetime,
) -> StoredCheckpoint | None:
    """One short transaction: sign and store a checkpoint if the policy says one is due."""
    with sessions() as session, session.begin():
        return checkpoint_if_due(session, signer=signer, policy=policy, now=now)


async def run_checkpoints(
    sessions: sessionmaker[Session],
    *,
    signer: CheckpointSigner,
    policy: CheckpointPolicy,
    clock: Callable[[], dt.datetime] = utc_now,
    poll_seconds: float = 1.0,
) -> None:
    """Until cancelled: every ``poll_seconds``, sign a checkpoint when one is due."""
    while True:
        try:
            await asyncio.to_thread(
                sign_due_checkpoint, sessions, signer=signer, policy=policy, now=clock()
            )
        except Exception as exc:  # a database hiccup must not end the loop; the next poll retries
            logger.error("audit checkpoint not signed: %s", type(exc).__name__)
        await asyncio.sleep(poll_seconds)
