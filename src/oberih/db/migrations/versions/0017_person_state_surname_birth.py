"""Identity resolution reads a block's nearest persons by (surname key, birth date).

Blocking read every person of a block (a surname key, three birth years) through
``ix_person_state_name_keys`` (surname key, given name key, birth year): a national register's
common surname puts thousands of persons in such a block, and every record without a usable
identifier read them all. It now reads those born on the record's date or a typical slip of it,
and the nearest each side of the date, as ordered ranges of this index
(``exchange.resolution._read_blocks``): bounded whatever the block's size.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_person_state_surname_birth",
        "person_state",
        ["surname_key", "birth_date", "person_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_person_state_surname_birth", table_name="person_state")
