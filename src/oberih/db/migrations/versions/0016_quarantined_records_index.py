"""Exchange: the quarantined records indexed, instead of every record by its state.

``ix_exchange_record_state`` indexed every record under its state, though only quarantined
records are ever looked up by state (the operator's list, in order of processing, and the
unmatched records retried after a registration): the others are found by batch and position.
Every record entered it twice (pending when received, its final state when processed), and
almost all of them as applied or duplicate, never read. This partial index holds the
quarantined records only, in the order their lists read them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

QUARANTINED = sa.text("state = 'quarantined'")


def upgrade() -> None:
    op.drop_index("ix_exchange_record_state", table_name="exchange_record")
    op.create_index(
        "ix_exchange_record_quarantined",
        "exchange_record",
        ["processed_at"],
        postgresql_where=QUARANTINED,
        sqlite_where=QUARANTINED,
    )


def downgrade() -> None:
    op.drop_index("ix_exchange_record_quarantined", table_name="exchange_record")
    op.create_index("ix_exchange_record_state", "exchange_record", ["state"])
