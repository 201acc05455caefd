"""Concurrent appends to the audit log: each takes the next leaf index, on both engines.

The service appends from several worker threads (and processes) at once; SQLite has no
``SELECT … FOR UPDATE``, and its Python driver starts a transaction only at the first write, so
two appends could read the same tree head and collide on one leaf index.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

from sqlalchemy import Engine, func, select

from oberih.audit.events import AuditEvent
from oberih.audit.models import AuditEventRow
from oberih.audit.services import record_event, tree_head
from oberih.db.engine import make_session_factory

THREADS = 6
APPENDS = 15
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _event(number: int) -> AuditEvent:
    return AuditEvent(
        action="person:record:read",
        outcome="allowed",
        actor="tcc_officer:concurrency",
        role="tcc_officer",
        office_code="TCC-UA80-01",
        purpose="DATA-CLARIFICATION",
        person_id=uuid.UUID(int=number),
        fields=("identity",),
        request_id=f"request-{number:08d}",
    )


def test_concurrent_appends_take_one_leaf_index_each(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def append(worker: int) -> None:
        start.wait()
        for number in range(APPENDS):
            try:
                with sessions() as session:
                    # A read first, as a request reads the person before recording the access.
                    session.scalar(select(func.count()).select_from(AuditEventRow))
                    record_event(session, _event(worker * APPENDS + number), now=NOW)
                    session.commit()
            except BaseException as exc:  # collected: the assertion names them
                failures.append(exc)

    workers = [threading.Thread(target=append, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    with sessions() as session:
        indexes = session.scalars(select(AuditEventRow.leaf_index)).all()
        assert sorted(indexes) == list(range(THREADS * APPENDS))
        assert tree_head(session).size == THREADS * APPENDS
