"""Run Alembic migrations programmatically (``oberih db upgrade``); no alembic.ini needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# Engine-specific objects that migrations create outside the models: the FTS5 search table on
# SQLite (and its shadow tables). Autogenerate and the drift check leave them alone.
ENGINE_SPECIFIC_TABLE_PREFIXES = ("name_key_fts",)


# Columns a migration adds on one engine only, outside the models: PostgreSQL's generated
# ``person_state.shown_fields`` (migrations 0011 and 0012).
ENGINE_SPECIFIC_COLUMNS = frozenset({"shown_fields"})


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    if type_ == "table" and name and name.startswith(ENGINE_SPECIFIC_TABLE_PREFIXES):
        return False
    if type_ == "column" and reflected and name in ENGINE_SPECIFIC_COLUMNS:
        return False
    # Indexes on expressions (trigram, JSON paths) are declared in migrations only: autogenerate
    # cannot compare an expression.
    return not (type_ == "index" and name and name.endswith(("_trgm", "_expr")))


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config_without_engine()).get_current_head()


def alembic_config_without_engine() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
