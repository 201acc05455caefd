"""Electronic registration documents: issued documents and the revocation list.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registration_document",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("claims_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_registration_document_person_id_person")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_registration_document")),
    )
    op.create_index("ix_registration_document_person_id", "registration_document", ["person_id"])
    op.create_table(
        "document_revocation",
        sa.Column(
            "version",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("revocation_hash", sa.LargeBinary(length=16), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["registration_document.document_id"],
            name=op.f("fk_document_revocation_document_id_registration_document"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_document_revocation")),
        sa.UniqueConstraint("document_id", name=op.f("uq_document_revocation_document_id")),
    )
    op.create_index("ix_document_revocation_expires_at", "document_revocation", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_document_revocation_expires_at", table_name="document_revocation")
    op.drop_table("document_revocation")
    op.drop_index("ix_registration_document_person_id", table_name="registration_document")
    op.drop_table("registration_document")
