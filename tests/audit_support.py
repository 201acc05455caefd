"""Test support for the audit log: read its leaves once every request's inbox row is sequenced."""

from __future__ import annotations

import time

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from oberih.audit.models import AuditEventRow, AuditInboxRow
from oberih.audit.services import sequence_inbox


def sequence_everything(engine: Engine) -> None:
    """Sequence the inbox until every row in it is a leaf (or 10 s have passed).

    On PostgreSQL a row is sequenced once every older transaction of the cluster has ended (the
    snapshot's xmin): other test workers' transactions can hold that back for a moment.
    """
    deadline = time.monotonic() + 10
    while True:
        with Session(engine) as session, session.begin():
            sequence_inbox(session)
            pending = session.scalar(
                select(func.count())
                .select_from(AuditInboxRow)
                .where(
                    AuditInboxRow.id.not_in(
                        select(AuditEventRow.inbox_id).where(AuditEventRow.inbox_id.is_not(None))
                    )
                )
            )
        if not pending or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def audit_leaves(engine: Engine) -> list[AuditEventRow]:
    """The audit log's leaves in order, once every inbox row is sequenced."""
    sequence_everything(engine)
    with Session(engine) as session:
        return list(session.scalars(select(AuditEventRow).order_by(AuditEventRow.leaf_index)))
