"""person_state.birth_place: the place of birth beside the other identifying fields.

Identity resolution reads the identifying fields of every candidate in a block (surname key and
birth year): hundreds to thousands of persons per chunk of a feed, more as the register grows.
The place of birth was read from the JSONB state (``state -> 'identity' -> 'data' ->>
'birth_place'``), which decompresses the whole document of every candidate: 13-25 us a row
against 4-6 without it, and the block query was the database's largest cost of intake at
250,000 records (``pg_stat_statements``). Written with the other columns of the projection
(``persons.projection.projection_row``); existing rows are filled from their states here.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FROM_STATE = {
    "postgresql": "state -> 'identity' -> 'data' ->> 'birth_place'",
    "sqlite": "json_extract(state, '$.identity.data.birth_place')",
}


def upgrade() -> None:
    with op.batch_alter_table("person_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_place", sa.String(length=200), nullable=True))
    expression = FROM_STATE[op.get_bind().dialect.name]
    op.execute(f"UPDATE person_state SET birth_place = {expression} WHERE {expression} IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("person_state", schema=None) as batch_op:
        batch_op.drop_column("birth_place")
