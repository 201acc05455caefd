"""Concurrent appends on PostgreSQL: the head row lock gives every event its own leaf index."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from oberih.audit.models import AuditEventRow
from oberih.audit.services import record_event, tree_head
from oberih.audit.signing import AuditSigner
from oberih.audit.verification import verify_log
from oberih.db.engine import make_engine, make_session_factory
from tests.integration.audit.conftest import ORIGIN, moment
from tests.unit.audit.factories import audit_event

WRITERS = 4
EVENTS_EACH = 25


@pytest.mark.postgres
def test_concurrent_writers_build_one_consistent_tree(postgres_database_url: str) -> None:
    engine = make_engine(postgres_database_url)
    sessions = make_session_factory(engine)
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for number in range(EVENTS_EACH):
                with sessions() as session, session.begin():
                    event = audit_event(writer * 1000 + number)
                    record_event(session, event, now=moment(number))
        except BaseException as exc:  # reported below, on the test's thread
            failures.append(exc)

    signer = AuditSigner.generate(origin=ORIGIN)
    writing = threading.Event()
    reports: list[bool] = []

    def verify_while_writing() -> None:
        # Verification takes no snapshot: appends committed meanwhile must not look forged.
        while writing.is_set():
            with sessions() as session:
                report = verify_log(
                    session, verifier_keys=[signer.verifier()], origin=ORIGIN, batch_size=7
                )
                reports.append(report.intact)
                if not report.intact:
                    failures.append(AssertionError(report.findings))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    auditor = threading.Thread(target=verify_while_writing)
    writing.set()
    auditor.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writing.clear()
    auditor.join()
    assert failures == []
    assert reports
    with sessions() as session:
        indexes = list(session.scalars(select(AuditEventRow.leaf_index)))
        assert sorted(indexes) == list(range(WRITERS * EVENTS_EACH))
        assert tree_head(session).size == WRITERS * EVENTS_EACH
        report = verify_log(session, verifier_keys=[signer.verifier()], origin=ORIGIN)
        assert report.intact, report.findings
    engine.dispose()
