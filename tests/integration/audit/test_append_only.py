"""The audit tables refuse changes: for the application's role on PostgreSQL, and on SQLite."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from oberih.audit.services import record_event, tree_head
from oberih.audit.signing import AuditSigner
from oberih.db.engine import make_engine, make_session_factory
from tests.integration.audit.conftest import moment, record_log
from tests.unit.audit.factories import audit_event

FORBIDDEN = (
    "UPDATE audit_event SET purpose = 'x'",
    "UPDATE audit_event SET leaf_index = leaf_index + 100",
    "DELETE FROM audit_event",
    "TRUNCATE audit_event",
    "UPDATE audit_node SET hash = hash",
    "DELETE FROM audit_node",
    "TRUNCATE audit_node",
    "UPDATE audit_checkpoint SET note = 'x'",
    "DELETE FROM audit_checkpoint",
    "TRUNCATE audit_checkpoint",
    "UPDATE audit_tree SET size = 0",
    "DELETE FROM audit_tree",
    "TRUNCATE audit_tree",
)


def _dsn(url: str, user: str | None = None) -> str:
    parsed = make_url(url)
    return (
        f"host={parsed.host} port={parsed.port} "
        f"user={user or parsed.username} dbname={parsed.database}"
    )


def _fill(url: str) -> None:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        record_log(
            session, AuditSigner.generate(origin="oberih.test/audit"), events=3, checkpoints=[3]
        )
    engine.dispose()


@pytest.mark.postgres
def test_application_role_cannot_change_or_remove_audit_rows(postgres_database_url: str) -> None:
    _fill(postgres_database_url)
    role = f"oberih_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(postgres_database_url), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        # Even with every table privilege granted, the audit log refuses changes.
        admin.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        try:
            with psycopg.connect(_dsn(postgres_database_url, role), autocommit=True) as app:
                for statement in FORBIDDEN:
                    with pytest.raises(psycopg.Error, match="append-only"):
                        app.execute(statement)
                assert app.execute("SELECT count(*) FROM audit_event").fetchone() == (3,)
                assert app.execute("SELECT count(*) FROM audit_checkpoint").fetchone() == (1,)
            # ...and the same role still appends through the service.
            app_url = make_url(postgres_database_url).set(username=role)
            engine = make_engine(app_url.render_as_string(hide_password=False))
            with make_session_factory(engine)() as session:
                assert record_event(session, audit_event(3), now=moment(3)) == 3
                session.commit()
                assert tree_head(session).size == 4
            engine.dispose()
        finally:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "audit.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def test_sqlite_triggers_refuse_changes_too(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    with make_session_factory(engine)() as session:
        record_log(
            session, AuditSigner.generate(origin="oberih.test/audit"), events=3, checkpoints=[3]
        )
    for statement in FORBIDDEN:
        if statement.startswith("TRUNCATE"):
            continue  # SQLite has no TRUNCATE; DELETE covers it
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar() == 3


def test_the_head_may_only_grow(engine: Engine) -> None:
    with make_session_factory(engine)() as session:
        record_log(session, AuditSigner.generate(origin="oberih.test/audit"), events=2)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_tree SET size = 1"))
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_tree SET size = size"))
