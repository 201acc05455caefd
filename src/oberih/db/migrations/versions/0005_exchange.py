"""Exchange: received batches, their records (the work queue), link decisions, identity reviews.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "exchange_batch",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=120), nullable=True),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_batch")),
    )
    with op.batch_alter_table("exchange_batch", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_batch_source_body_sha256", ["source", "body_sha256"], unique=False
        )

    op.create_table(
        "exchange_record",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_record_id", sa.String(length=128), nullable=True),
        sa.Column("message_type", sa.String(length=40), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("original_raw", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["exchange_batch.id"],
            name=op.f("fk_exchange_record_batch_id_exchange_batch"),
        ),
        sa.PrimaryKeyConstraint("batch_id", "position", name=op.f("pk_exchange_record")),
    )
    with op.batch_alter_table("exchange_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_record_source_source_record_id",
            ["source", "source_record_id"],
            unique=False,
        )
        batch_op.create_index("ix_exchange_record_state", ["state"], unique=False)

    op.create_table(
        "exchange_link_decision",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("fields", JSON_DOCUMENT, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id", "position"],
            ["exchange_record.batch_id", "exchange_record.position"],
            name=op.f("fk_exchange_link_decision_batch_id_exchange_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_link_decision")),
    )
    with op.batch_alter_table("exchange_link_decision", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_link_decision_batch_id_position", ["batch_id", "position"], unique=False
        )

    op.create_table(
        "exchange_match_review",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("candidates", JSON_DOCUMENT, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=160), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id", "position"],
            ["exchange_record.batch_id", "exchange_record.position"],
            name=op.f("fk_exchange_match_review_batch_id_exchange_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_match_review")),
    )
    with op.batch_alter_table("exchange_match_review", schema=None) as batch_op:
        batch_op.create_index("ix_exchange_match_review_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exchange_match_review", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_match_review_status")

    op.drop_table("exchange_match_review")
    with op.batch_alter_table("exchange_link_decision", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_link_decision_batch_id_position")

    op.drop_table("exchange_link_decision")
    with op.batch_alter_table("exchange_record", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_record_state")
        batch_op.drop_index("ix_exchange_record_source_source_record_id")

    op.drop_table("exchange_record")
    with op.batch_alter_table("exchange_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_batch_source_body_sha256")

    op.drop_table("exchange_batch")
