"""The root Typer application; each feature adds its own command group."""

from __future__ import annotations

import typer

from oberih.cli import db, persons

app = typer.Typer(no_args_is_help=True, help="oberih: the register of persons liable for service.")
app.add_typer(db.app, name="db")
app.add_typer(persons.app, name="person")
app.command("rebuild")(persons.rebuild_command)


@app.callback()
def root() -> None:
    """oberih: the register of conscripts, persons liable for military service and reservists."""


@app.command()
def version() -> None:
    """Print the package version."""
    from oberih import __version__

    typer.echo(__version__)
