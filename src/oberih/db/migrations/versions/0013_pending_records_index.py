"""Exchange: the pending records of each batch, in line order (a partial index).

Workers claimed a chunk with one query that joined every pending record to its batch and
sorted them all by the batch's arrival, then kept the first 500: with tens of thousands of
records waiting, each claim read and sorted every one of them, raw line included (about 40 ms
a claim, a sixth of the database's time in ``oberih bench ingest``). Claims now go batch by
batch (``exchange.services.claim_chunk_rows``), each an ordered scan of this index that stops
at the chunk's size; it holds only pending records, so it stays as small as the queue.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PENDING = sa.text("state = 'pending'")


def upgrade() -> None:
    op.create_index(
        "ix_exchange_record_pending",
        "exchange_record",
        ["batch_id", "position"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_exchange_record_pending", table_name="exchange_record")
