"""Person search: byte-order search keys on PostgreSQL and an index in search-result order.

Name search ranks key combinations in Python, then fetches the persons of each combination in
(patronymic key, birth date, person id) order with a LIMIT. The index below serves that order
on both engines; the "C" collation makes PostgreSQL order the keys byte by byte, as SQLite and
Python do, so both engines return the same persons in the same order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KEY_COLUMNS = ("surname_key", "given_name_key", "patronymic_key")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Only the collation changes: PostgreSQL rebuilds the indexes on these columns and
        # leaves the table itself alone (varchar to varchar is binary-coercible).
        for column in KEY_COLUMNS:
            op.alter_column(
                "person_state",
                column,
                type_=sa.String(length=100, collation="C"),
                existing_type=sa.String(length=100),
                existing_nullable=True,
            )
    op.create_index(
        "ix_person_state_search_order",
        "person_state",
        [*KEY_COLUMNS, "birth_date", "person_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_person_state_search_order", table_name="person_state")
    if op.get_bind().dialect.name == "postgresql":
        for column in KEY_COLUMNS:
            op.alter_column(
                "person_state",
                column,
                type_=sa.String(length=100),
                existing_type=sa.String(length=100, collation="C"),
                existing_nullable=True,
            )
