"""Exchange: a merge answers the absorbed person's other open duplicate pairs.

With open pairs A-B and B-C, a merge of B into A left B-C open, though the register refuses
every merge of it (B is absorbed): a dead item in the officers' queue. A merge now closes such a
pair as ``superseded`` (``merge_id`` names the merge) and queues A-C in its place; the new
column ``queued_by_merge_id`` names the merge that queued a pair, so that undoing the merge
withdraws it (``exchange.merge``). A merge and its undoing find a person's pairs through either
column: the unique constraint serves ``person_id``, the new index ``other_person_id``.

The pairs earlier merges left open are answered here as a merge now answers them: confirmed
when the other person is the survivor, superseded otherwise (undoing that merge reopens them).
No pair is queued in their place: a pair's score needs the matcher, not SQL; ``oberih dedup``
queues the survivor's pairs that score high enough.

The index of the pairs by status alone goes: the officers' list reads the partial index of open
pairs (0019), and nothing else looks pairs up by status.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# The merge in force that absorbed one of the pair's persons (the earliest, should both be).
_ABSORBING = """
    SELECT m.{column} FROM exchange_person_merge AS m
    WHERE m.undone_at IS NULL
      AND m.absorbed_id IN (exchange_duplicate_candidate.person_id,
                            exchange_duplicate_candidate.other_person_id)
    ORDER BY m.merged_at, m.id
    LIMIT 1
"""

ANSWER_LEFT_OPEN = f"""
    UPDATE exchange_duplicate_candidate
    SET status = CASE
            WHEN ({_ABSORBING.format(column="survivor_id")}) IN (person_id, other_person_id)
            THEN 'confirmed' ELSE 'superseded'
        END,
        merge_id = ({_ABSORBING.format(column="id")}),
        decided_at = ({_ABSORBING.format(column="merged_at")}),
        decided_by = ({_ABSORBING.format(column="merged_by")})
    WHERE status = 'open' AND EXISTS ({_ABSORBING.format(column="id")})
"""


def upgrade() -> None:
    with op.batch_alter_table("exchange_duplicate_candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_by_merge_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            "ix_exchange_duplicate_candidate_other_person_id", ["other_person_id"], unique=False
        )
        batch_op.drop_index("ix_exchange_duplicate_candidate_status")
    op.execute(ANSWER_LEFT_OPEN)


def downgrade() -> None:
    # The pairs keep their status: before this revision a pair not open was not listed, and no
    # decision on it was taken. Which merge queued a pair is lost.
    with op.batch_alter_table("exchange_duplicate_candidate", schema=None) as batch_op:
        batch_op.create_index("ix_exchange_duplicate_candidate_status", ["status"], unique=False)
        batch_op.drop_index("ix_exchange_duplicate_candidate_other_person_id")
        batch_op.drop_column("queued_by_merge_id")
