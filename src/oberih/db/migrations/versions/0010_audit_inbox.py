"""Audit inbox: requests record their audit events without the tree head's lock.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# Append-only like the other audit tables (0003 defines the function).
PG_TRIGGERS = """
CREATE TRIGGER audit_inbox_append_only BEFORE UPDATE OR DELETE ON audit_inbox
    FOR EACH ROW EXECUTE FUNCTION oberih_audit_is_append_only();
CREATE TRIGGER audit_inbox_no_truncate BEFORE TRUNCATE ON audit_inbox
    FOR EACH STATEMENT EXECUTE FUNCTION oberih_audit_is_append_only();
"""
SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_inbox_no_update BEFORE UPDATE ON audit_inbox
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE is not allowed'); END""",
    """CREATE TRIGGER audit_inbox_no_delete BEFORE DELETE ON audit_inbox
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE is not allowed'); END""",
]


def upgrade() -> None:
    op.create_table(
        "audit_inbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("office_code", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.String(length=300), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("fields", JSON_DOCUMENT, nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("classified_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_inbox")),
    )
    with op.batch_alter_table("audit_inbox", schema=None) as batch_op:
        batch_op.create_index("ix_audit_inbox_txid_id", ["txid", "id"], unique=False)
    # ``ADD COLUMN`` is done in place on SQLite too: the append-only triggers do not fire.
    op.add_column("audit_event", sa.Column("inbox_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_audit_event_inbox_id", "audit_event", ["inbox_id"], unique=True)
    op.add_column(
        "audit_tree", sa.Column("inbox_txid", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column(
        "audit_tree", sa.Column("inbox_id", sa.BigInteger(), server_default="0", nullable=False)
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_TRIGGERS)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    # Plain ``DROP COLUMN`` (SQLite >= 3.35 too): a batch copy would lose the audit triggers.
    op.drop_column("audit_tree", "inbox_id")
    op.drop_column("audit_tree", "inbox_txid")
    op.drop_index("ix_audit_event_inbox_id", table_name="audit_event")
    op.drop_column("audit_event", "inbox_id")
    op.drop_table("audit_inbox")  # its triggers go with it
