"""Models and migrations must describe the same schema (warehouse's db-check)."""

from __future__ import annotations

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from oberih.db.engine import make_engine
from oberih.db.migrate import current_revision, include_object
from oberih.db.schema import metadata


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection, warnings.catch_warnings():
        # SQLite's reflection skips indexes on expressions, saying so; they are declared in
        # migrations only and left out of the comparison (``include_object``) on both engines.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_database_is_at_the_head_revision(engine: Engine) -> None:
    assert current_revision(engine) is not None
    assert {"person", "fact", "identifier", "person_state", "name_key"} <= set(
        inspect(engine).get_table_names()
    )


@pytest.mark.postgres
def test_the_rows_intake_rewrites_leave_room_for_updates_in_place(
    postgres_database_url: str,
) -> None:
    """Migration 0018: the projection's and the identifiers' pages keep a quarter free, so that
    intake's updates of them are heap-only (no new index entries)."""
    engine = make_engine(postgres_database_url)
    try:
        with engine.connect() as connection:
            options = dict(
                connection.exec_driver_sql(
                    "SELECT relname, reloptions FROM pg_class "
                    "WHERE relname IN ('person_state', 'identifier')"
                ).all()
            )
    finally:
        engine.dispose()
    assert options == {"person_state": ["fillfactor=75"], "identifier": ["fillfactor=75"]}
