"""The journal's endings by the record they end: an index of the few facts that hold one.

An ending that arrives before its start (a divorce before the marriage, an enrolment's end
before the enrolment) keeps the start's record id in its payload (``ends_record_id``); when the
start comes, intake looks for its ending (``exchange.chunks.earlier_endings``). Reading every
interval fact of a chunk's persons for that cost a query of a few hundred rows per chunk,
though almost none is an ending: this partial index holds only the endings, by (source, the
record id they end), and the look-up is one probe per start. Declared here only (an index on an
expression, which autogenerate cannot compare: ``db.migrate.include_object``).

Building it reads the whole journal once: on a national-size register, in a maintenance window.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

INDEX = "ix_fact_ends_record_expr"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX {INDEX} ON fact (source, (payload ->> 'ends_record_id')) "
            "WHERE payload ? 'ends_record_id'"
        )
    else:
        op.execute(
            f"CREATE INDEX {INDEX} ON fact (source, json_extract(payload, '$.ends_record_id')) "
            "WHERE json_extract(payload, '$.ends_record_id') IS NOT NULL"
        )


def downgrade() -> None:
    op.execute(f"DROP INDEX {INDEX}")
