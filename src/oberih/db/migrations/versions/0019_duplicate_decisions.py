"""Exchange: an officer's decision on a probable duplicate pair, and the open pairs in order.

``oberih dedup`` queued pairs that nothing could decide. An officer now merges a pair (the
persons were one) or rejects it (two persons): the pair keeps who decided, when, and the merge
that confirmed it, so a merge undone later can be traced to the pair and the pair reopened
(``exchange.merge.undo_merge``). The columns are empty while a pair is open.

The officers' list reads the open pairs oldest first, a page at a time by keyset
(``exchange.duplicates.open_duplicates``): this partial index holds only the open pairs, in
that order, so a page is one range scan however many pairs were decided before.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("exchange_duplicate_candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("merge_id", sa.Uuid(), nullable=True))
    op.create_index(
        "ix_exchange_duplicate_candidate_open",
        "exchange_duplicate_candidate",
        ["found_at", "id"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_exchange_duplicate_candidate_open", table_name="exchange_duplicate_candidate")
    with op.batch_alter_table("exchange_duplicate_candidate", schema=None) as batch_op:
        batch_op.drop_column("merge_id")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("decided_at")
