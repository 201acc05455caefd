"""Person journal: persons, append-only facts, identifiers, state projection, name dictionary.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# Append-only means it (ARCHITECTURE decision 3): the journal refuses UPDATE, DELETE and TRUNCATE
# from every role, the application's included. A superuser can still drop the trigger, and the
# audit log (a Merkle tree) makes that detectable.
PG_APPEND_ONLY = """
CREATE FUNCTION oberih_journal_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the fact journal is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER fact_append_only BEFORE UPDATE OR DELETE ON fact
    FOR EACH ROW EXECUTE FUNCTION oberih_journal_is_append_only();
CREATE TRIGGER fact_no_truncate BEFORE TRUNCATE ON fact
    FOR EACH STATEMENT EXECUTE FUNCTION oberih_journal_is_append_only();
"""
SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER fact_no_update BEFORE UPDATE ON fact
       BEGIN SELECT RAISE(ABORT, 'the fact journal is append-only: UPDATE is not allowed'); END""",
    """CREATE TRIGGER fact_no_delete BEFORE DELETE ON fact
       BEGIN SELECT RAISE(ABORT, 'the fact journal is append-only: DELETE is not allowed'); END""",
]

# Typo-tolerant name search runs over the small dictionary of distinct names: trigram indexes
# (pg_trgm on PostgreSQL, an FTS5 trigram table kept in step by triggers on SQLite).
PG_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_name_key_key_trgm ON name_key USING gin (key gin_trgm_ops)",
    "CREATE INDEX ix_name_key_latin_key_trgm ON name_key USING gin (latin_key gin_trgm_ops)",
]
SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE name_key_fts USING fts5(
           key, latin_key, content='name_key', content_rowid='rowid', tokenize='trigram')""",
    """CREATE TRIGGER name_key_fts_insert AFTER INSERT ON name_key BEGIN
           INSERT INTO name_key_fts(rowid, key, latin_key)
           VALUES (new.rowid, new.key, new.latin_key); END""",
    """CREATE TRIGGER name_key_fts_delete AFTER DELETE ON name_key BEGIN
           INSERT INTO name_key_fts(name_key_fts, rowid, key, latin_key)
           VALUES ('delete', old.rowid, old.key, old.latin_key); END""",
    """CREATE TRIGGER name_key_fts_update AFTER UPDATE OF key, latin_key ON name_key BEGIN
           INSERT INTO name_key_fts(name_key_fts, rowid, key, latin_key)
           VALUES ('delete', old.rowid, old.key, old.latin_key);
           INSERT INTO name_key_fts(rowid, key, latin_key)
           VALUES (new.rowid, new.key, new.latin_key); END""",
]


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    op.create_table(
        "fact",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", JSON_DOCUMENT, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_record_id", sa.String(length=128), nullable=False),
        sa.Column("legal_basis", sa.String(length=300), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_fact_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fact")),
        sa.UniqueConstraint("person_id", "seq", name=op.f("uq_fact_person_id_seq")),
        sa.UniqueConstraint(
            "source", "source_record_id", name=op.f("uq_fact_source_source_record_id")
        ),
    )
    op.create_table(
        "identifier",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("fact_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_identifier_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", "kind", "value", name=op.f("pk_identifier")),
    )
    op.create_index(
        "uq_identifier_active_kind_value",
        "identifier",
        ["kind", "value"],
        unique=True,
        postgresql_where=sa.text("active"),
        sqlite_where=sa.text("active"),
    )
    op.create_table(
        "person_state",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("surname", sa.String(length=100), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=True),
        sa.Column("patronymic", sa.String(length=100), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("sex", sa.String(length=6), nullable=True),
        sa.Column("region", sa.String(length=4), nullable=True),
        sa.Column("office_code", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("date_of_death", sa.Date(), nullable=True),
        sa.Column("surname_key", sa.String(length=100), nullable=True),
        sa.Column("given_name_key", sa.String(length=100), nullable=True),
        sa.Column("patronymic_key", sa.String(length=100), nullable=True),
        sa.Column("last_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_state_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_state")),
    )
    op.create_index(
        "ix_person_state_name_keys",
        "person_state",
        ["surname_key", "given_name_key", "birth_year"],
    )
    op.create_index("ix_person_state_office_code", "person_state", ["office_code"])
    op.create_table(
        "name_key",
        sa.Column("part", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("latin_key", sa.String(length=120), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("part", "key", name=op.f("pk_name_key")),
    )
    op.create_index(op.f("ix_name_key_latin_key"), "name_key", ["latin_key"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
        for statement in PG_SEARCH:
            op.execute(statement)
    else:
        for statement in SQLITE_APPEND_ONLY + SQLITE_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS fact_no_truncate ON fact")
        op.execute("DROP TRIGGER IF EXISTS fact_append_only ON fact")
        op.execute("DROP FUNCTION IF EXISTS oberih_journal_is_append_only()")
    else:
        op.execute("DROP TABLE IF EXISTS name_key_fts")
    for table in ("name_key", "person_state", "identifier", "fact", "person"):
        op.drop_table(table)
