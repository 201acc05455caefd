"""Alembic environment: runs on the connection handed over by ``oberih.db.migrate``."""

from __future__ import annotations

from alembic import context

from oberih.db.migrate import include_object
from oberih.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
