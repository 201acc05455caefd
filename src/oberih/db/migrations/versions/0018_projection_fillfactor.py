"""PostgreSQL: room on each page of the projection and the identifiers for updates in place.

Feed intake rewrites a person's projection row for nearly every record about them, and
restates the identifiers a source sends. A row updated where its page has room, and whose
indexed columns did not change (most records change neither the names nor the office), is a
heap-only tuple update: no new entry in any of the projection's six indexes, its trigram and
array indexes among them. Pages filled to the brim (the default, 100) left room for about half
of them: in `oberih bench ingest` at 20,000 records 53% of the projection's updates and 69% of
the identifiers' were in place; at 75 they were 94% and 100%, and the database's CPU per record
fell by 4 to 6% (0.217 to 0.208 and 0.233 to 0.219 ms, alternating runs). The cost is a quarter
more pages for these rows: a projection row is small, its state document is in TOAST.

Only pages written from now on keep the room; ``VACUUM FULL`` (or ``pg_repack``) rewrites the
existing ones, in a maintenance window on a national-size register.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLES = ("person_state", "identifier")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 75)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
