"""Determinations: append-only history of what the rules said about each person.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "determination",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("profile_version", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("removal_reason", sa.String(length=16), nullable=True),
        sa.Column("mobilisable", sa.Boolean(), nullable=False),
        sa.Column("next_change", sa.Date(), nullable=True),
        sa.Column("result_hash", sa.String(length=32), nullable=False),
        sa.Column("result", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_determination_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_determination")),
    )
    op.create_index("ix_determination_person_id_id", "determination", ["person_id", "id"])
    op.create_index("ix_determination_next_change", "determination", ["next_change"])


def downgrade() -> None:
    op.drop_index("ix_determination_next_change", table_name="determination")
    op.drop_index("ix_determination_person_id_id", table_name="determination")
    op.drop_table("determination")
