"""Audit log fixtures: a signer, a recorded log, and the attacker who bypasses the triggers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from oberih.audit.services import record_event, sign_checkpoint_now
from oberih.audit.signing import AuditSigner
from oberih.db.engine import is_postgres
from tests.factories import utc
from tests.unit.audit.factories import audit_event

ORIGIN = "oberih.test/audit"
SQLITE_TRIGGERS = [
    f"{table}_{kind}"
    for table in ("audit_event", "audit_node", "audit_checkpoint", "audit_inbox")
    for kind in ("no_update", "no_delete")
] + ["audit_tree_only_grows", "audit_tree_no_delete"]


@pytest.fixture
def signer() -> AuditSigner:
    return AuditSigner.generate(origin=ORIGIN)


def moment(number: int) -> dt.datetime:
    return utc(2026, 3, 1) + dt.timedelta(seconds=number, microseconds=number)


def record_log(
    session: Session,
    signer: AuditSigner,
    *,
    events: int,
    checkpoints: Sequence[int] = (),
) -> None:
    """Record ``events`` synthetic events, signing a checkpoint at each size in ``checkpoints``."""
    if 0 in checkpoints:
        sign_checkpoint_now(session, signer=signer, now=moment(0))
    for number in range(events):
        record_event(session, audit_event(number), now=moment(number))
        if number + 1 in checkpoints:
            sign_checkpoint_now(session, signer=signer, now=moment(number))
    session.commit()


@contextmanager
def attacker(engine: Engine) -> Iterator[Connection]:
    """A connection with the append-only triggers out of the way: a database superuser.

    On PostgreSQL ``session_replication_role = replica`` skips ordinary triggers (it needs
    superuser rights, which the test server's ``postgres`` user has); on SQLite whoever holds
    the file can drop them.
    """
    with engine.begin() as connection:
        if is_postgres(engine):
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            for trigger in SQLITE_TRIGGERS:
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        yield connection
