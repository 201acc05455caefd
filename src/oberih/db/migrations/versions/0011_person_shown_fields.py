"""person_state.shown_fields (PostgreSQL): the fields a read of the record shows, kept by the server.

The audit event of a person read names the fields that carry data (``PersonRead.shown_fields``).
The read on the event loop writes that event in the same statement as the read
(``persons.current``); computing the names there, from the JSONB state, cost the server about a
third of a millisecond per read (each lookup in the compressed document reads it again), more
than the read itself. A generated column computes them once per write of the projection, which
is rarer than reads by orders of magnitude. PostgreSQL only: SQLite reads take the worker-thread
path, which computes the names in Python. Not in the models (``db.migrate.include_object``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# ``persons.schemas.SHOWN_FIELDS`` as of this revision (a test checks they still agree; a new
# field of PersonRead needs a migration that redefines the column).
SHOWN_FIELDS = (
    "identity",
    "death",
    "registered_address",
    "actual_address",
    "phone",
    "email",
    "military_registration",
    "medical_decision",
    "identifiers",
    "family",
    "education",
    "employment",
    "disability",
    "deferrals",
    "reservations",
    "service",
    "border_crossings",
)


def shown_fields_expression(names: tuple[str, ...]) -> str:
    """The fields present in ``state`` and neither null nor an empty list, in order (``text[]``:
    ``to_jsonb`` is not immutable, which a generated column must be)."""
    cases = ", ".join(
        f"CASE WHEN state -> '{name}' NOT IN ('null'::jsonb, '[]'::jsonb) THEN '{name}' END"
        for name in names
    )
    return f"array_remove(ARRAY[{cases}]::text[], NULL)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE person_state ADD COLUMN shown_fields text[] "
        f"GENERATED ALWAYS AS ({shown_fields_expression(SHOWN_FIELDS)}) STORED"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE person_state DROP COLUMN shown_fields")
