"""Exchange: merges of persons recorded twice, and their undoing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "exchange_person_merge",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("absorbed_id", sa.Uuid(), nullable=False),
        sa.Column("copies", JSON_DOCUMENT, nullable=False),
        sa.Column("released", JSON_DOCUMENT, nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_by", sa.String(length=160), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=160), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_person_merge")),
    )
    with op.batch_alter_table("exchange_person_merge", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_person_merge_absorbed_id"), ["absorbed_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_person_merge_survivor_id"), ["survivor_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange_person_merge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_person_merge_survivor_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_person_merge_absorbed_id"))

    op.drop_table("exchange_person_merge")
