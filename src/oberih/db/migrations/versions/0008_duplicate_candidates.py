"""Exchange: probable duplicate persons found by oberih dedup, for review.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "exchange_duplicate_candidate",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("other_person_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("fields", JSON_DOCUMENT, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_duplicate_candidate")),
        sa.UniqueConstraint(
            "person_id",
            "other_person_id",
            name=op.f("uq_exchange_duplicate_candidate_person_id_other_person_id"),
        ),
    )
    with op.batch_alter_table("exchange_duplicate_candidate", schema=None) as batch_op:
        batch_op.create_index("ix_exchange_duplicate_candidate_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exchange_duplicate_candidate", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_duplicate_candidate_status")

    op.drop_table("exchange_duplicate_candidate")
