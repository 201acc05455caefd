"""Models and migrations must describe the same schema (warehouse's db-check)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from oberih.db.migrate import current_revision, include_object
from oberih.db.schema import metadata


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
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
