"""PostgreSQL: the projection's state document compressed with LZ4 instead of pglz.

A person's state is a JSONB document of about 4 KB, which PostgreSQL compresses on every write
of the projection: feed intake rewrites it for every person a record is about. Measured on
20,000 states of the ingest benchmark: writing them cost 80 us a row with pglz against 38 with
LZ4, and reading them back as text 25 against 23 (``oberih bench ingest``; the README). LZ4 is
built into PostgreSQL 14 and later where the server was compiled with it (Debian's is); a
server without it keeps pglz, and nothing else changes. Only values written from now on are
compressed with LZ4: PostgreSQL reads either.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    return bool(
        bind.exec_driver_sql(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        ).scalar()
    )


def upgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE person_state ALTER COLUMN state SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE person_state ALTER COLUMN state SET COMPRESSION pglz")
