"""Audit log: events (Merkle leaves), tree nodes, the tree head and signed checkpoints.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
APPEND_ONLY_TABLES = ("audit_event", "audit_node", "audit_checkpoint")
EMPTY_COMPACT_RANGE = bytes(8)  # CompactRange().to_bytes(): size 0, no edge hashes

# As the fact journal (0001): refused for every role, the application's included. The head row
# may be updated, but only forward: a tree never shrinks.
PG_APPEND_ONLY = """
CREATE FUNCTION oberih_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE FUNCTION oberih_audit_tree_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.size < OLD.size OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'the audit log is append-only: its tree cannot shrink'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_tree_only_grows BEFORE UPDATE ON audit_tree
    FOR EACH ROW EXECUTE FUNCTION oberih_audit_tree_only_grows();
CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
    FOR EACH ROW EXECUTE FUNCTION oberih_audit_is_append_only();
CREATE TRIGGER audit_tree_no_truncate BEFORE TRUNCATE ON audit_tree
    FOR EACH STATEMENT EXECUTE FUNCTION oberih_audit_is_append_only();
"""
PG_TABLE_TRIGGERS = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION oberih_audit_is_append_only();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION oberih_audit_is_append_only();
"""
SQLITE_TABLE_TRIGGERS = [
    """CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE is not allowed'); END""",
    """CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE is not allowed'); END""",
]
SQLITE_TREE_TRIGGERS = [
    """CREATE TRIGGER audit_tree_only_grows BEFORE UPDATE ON audit_tree
       WHEN NEW.size < OLD.size OR NEW.id <> OLD.id
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: its tree cannot shrink'); END""",
    """CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE is not allowed'); END""",
]


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
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
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_audit_event")),
    )
    op.create_index(
        "ix_audit_event_person_id_leaf_index", "audit_event", ["person_id", "leaf_index"]
    )
    op.create_table(
        "audit_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index", name=op.f("pk_audit_node")),
    )
    audit_tree = op.create_table(
        "audit_tree",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("compact_range", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_tree_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_tree")),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoint")),
    )
    op.bulk_insert(audit_tree, [{"id": 1, "size": 0, "compact_range": EMPTY_COMPACT_RANGE}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
        for table in APPEND_ONLY_TABLES:
            op.execute(PG_TABLE_TRIGGERS.format(table=table))
    else:
        for table in APPEND_ONLY_TABLES:
            for statement in SQLITE_TABLE_TRIGGERS:
                op.execute(statement.format(table=table))
        for statement in SQLITE_TREE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    # Dropping the tables drops their triggers on both engines.
    for table in ("audit_checkpoint", "audit_tree", "audit_node", "audit_event"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS oberih_audit_tree_only_grows()")
        op.execute("DROP FUNCTION IF EXISTS oberih_audit_is_append_only()")
