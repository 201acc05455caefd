"""``oberih db ...``: schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from oberih.cli.context import console, open_engine
from oberih.db.migrate import current_revision, upgrade

app = typer.Typer(no_args_is_help=True, help="Database schema.")
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="Overrides OBERIH_DATABASE_URL.")
]


@app.command("upgrade")
def upgrade_command(database_url: DatabaseUrl = None) -> None:
    """Apply all migrations (creates the database schema on first run)."""
    with open_engine(database_url) as engine:
        upgrade(engine)
        console.print(f"schema at revision [bold]{current_revision(engine)}[/]")
