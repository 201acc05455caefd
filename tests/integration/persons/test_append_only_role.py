"""On PostgreSQL the application's own role cannot change or remove journal rows."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from oberih.db.engine import make_engine, make_session_factory
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person
from tests.factories import identity_payload, new_fact, utc

FORBIDDEN = ("UPDATE fact SET actor = 'x'", "DELETE FROM fact", "TRUNCATE fact CASCADE")


def _dsn(url: str, user: str | None = None) -> str:
    parsed = make_url(url)
    return f"host={parsed.host} port={parsed.port} user={user or parsed.username} dbname={parsed.database}"


@pytest.mark.postgres
def test_application_role_cannot_update_delete_or_truncate_facts(
    postgres_database_url: str,
) -> None:
    engine = make_engine(postgres_database_url)
    with make_session_factory(engine)() as session:
        create_person(
            session, facts=[new_fact(FactKind.identity, identity_payload())], now=utc(2026, 1, 1)
        )
        session.commit()
    engine.dispose()
    role = f"oberih_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(postgres_database_url), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        # Even with every table privilege granted, the journal refuses changes.
        admin.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        try:
            with psycopg.connect(_dsn(postgres_database_url, role), autocommit=True) as app:
                for statement in FORBIDDEN:
                    with pytest.raises(psycopg.Error, match="append-only"):
                        app.execute(statement)
                assert app.execute("SELECT count(*) FROM fact").fetchone() == (1,)
                app.execute("INSERT INTO person (id, created_at) VALUES (gen_random_uuid(), now())")
        finally:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
