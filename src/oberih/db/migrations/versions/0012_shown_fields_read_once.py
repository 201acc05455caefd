"""person_state.shown_fields (PostgreSQL) computed from one read of the state, not seventeen.

Migration 0011's generated column looked up each of the seventeen fields with ``state -> name``.
A state is a few kilobytes of JSONB, stored compressed, and every ``->`` decompresses the whole
document again: computing the column cost about 130 us per write of a projection, four times
the rest of the write (``pg_stat_statements`` on ``oberih bench ingest``: the upsert of the
projections was the largest single cost of intake). The same expression now runs in a function
that decompresses the document once (``state || '{}'`` is a new, plain document in memory) and
looks the fields up in it: about 25 us. The column stays a generated one, so that no writer of
a projection (bulk load, intake, commands, merges, rebuilds) can leave it out of step.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FUNCTION = "oberih_shown_fields"


def _revision_0011() -> ModuleType:
    """0011's field names and expression, whose meaning this revision keeps (a module file
    name that starts with a digit cannot be imported by name)."""
    path = Path(__file__).with_name("0011_person_shown_fields.py")
    spec = importlib.util.spec_from_file_location("oberih_migration_0011", path)
    if spec is None or spec.loader is None:
        raise RuntimeError("migration 0011 is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replace_column(expression: str) -> None:
    op.execute("ALTER TABLE person_state DROP COLUMN shown_fields")
    op.execute(
        "ALTER TABLE person_state ADD COLUMN shown_fields text[] "
        f"GENERATED ALWAYS AS ({expression}) STORED"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    revision_0011 = _revision_0011()
    lookups = revision_0011.shown_fields_expression(revision_0011.SHOWN_FIELDS).replace(
        "state -> ", "document -> "
    )
    # IMMUTABLE (a generated column requires it, and it is: the result depends on the argument
    # only); plpgsql, so that it is not inlined back into seventeen lookups in the column.
    op.execute(
        f"""
        CREATE FUNCTION {FUNCTION}(state jsonb) RETURNS text[]
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
        DECLARE
            document jsonb := state || '{{}}'::jsonb;  -- decompressed once, here
        BEGIN
            RETURN {lookups};
        END
        $$
        """
    )
    _replace_column(f"{FUNCTION}(state)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    revision_0011 = _revision_0011()
    _replace_column(revision_0011.shown_fields_expression(revision_0011.SHOWN_FIELDS))
    op.execute(f"DROP FUNCTION {FUNCTION}(jsonb)")
