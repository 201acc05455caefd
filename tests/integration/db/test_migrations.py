"""Models and migrations must describe the same schema (warehouse's db-check)."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from oberih.db.engine import make_engine
from oberih.db.migrate import alembic_config, current_revision, include_object, upgrade
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


_PAIR = sa.table(
    "exchange_duplicate_candidate",
    *(sa.column(name, sa.Uuid) for name in ("id", "person_id", "other_person_id", "merge_id")),
    sa.column("score", sa.Float),
    sa.column("fields", sa.JSON),
    sa.column("status", sa.String),
    sa.column("found_at", sa.DateTime(timezone=True)),
    sa.column("decided_by", sa.String),
)
_MERGE = sa.table(
    "exchange_person_merge",
    *(sa.column(name, sa.Uuid) for name in ("id", "survivor_id", "absorbed_id")),
    sa.column("copies", sa.JSON),
    sa.column("released", sa.JSON),
    sa.column("merged_at", sa.DateTime(timezone=True)),
    sa.column("merged_by", sa.String),
    sa.column("undone_at", sa.DateTime(timezone=True)),
)


def test_pairs_earlier_merges_left_open_are_answered_by_them(engine: Engine) -> None:
    """Migration 0021: an open pair of a person a merge in force absorbed, which no decision
    could close, is confirmed by the merge (the other is its survivor) or superseded by it."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0020")
    survivor, absorbed, other, third, fourth = sorted(uuid.uuid4() for _ in range(5))
    merged_at = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    merge_id, undone_id = uuid.uuid4(), uuid.uuid4()
    pairs = {
        "survivor": (survivor, absorbed, "open"),  # made before 0019 confirmed pairs
        "other": (absorbed, other, "open"),
        "rejected": (absorbed, third, "rejected"),
        "unmerged": (other, fourth, "open"),  # ``fourth`` was absorbed, then the merge undone
        "untouched": (survivor, other, "open"),
    }
    ids = {name: uuid.uuid4() for name in pairs}
    with engine.begin() as connection:
        for row_id, absorbing, gone, undone_at in (
            (merge_id, survivor, absorbed, None),
            (undone_id, third, fourth, merged_at),
        ):
            connection.execute(
                sa.insert(_MERGE).values(
                    id=row_id, survivor_id=absorbing, absorbed_id=gone, copies={}, released=[],
                    merged_at=merged_at, merged_by="officer-1", undone_at=undone_at,
                )
            )  # fmt: skip
        for name, (person, partner, status) in pairs.items():
            connection.execute(
                sa.insert(_PAIR).values(
                    id=ids[name], person_id=person, other_person_id=partner, score=20.0,
                    fields={}, status=status, found_at=merged_at, decided_by=None,
                )
            )  # fmt: skip
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(_PAIR.c.id, _PAIR.c.status, _PAIR.c.merge_id, _PAIR.c.decided_by)
        ).all()
    found = {row.id: (row.status, row.merge_id, row.decided_by) for row in rows}
    assert {name: found[row_id] for name, row_id in ids.items()} == {
        "survivor": ("confirmed", merge_id, "officer-1"),
        "other": ("superseded", merge_id, "officer-1"),
        "rejected": ("rejected", None, None),
        "unmerged": ("open", None, None),
        "untouched": ("open", None, None),
    }
