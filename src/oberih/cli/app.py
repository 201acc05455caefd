"""The root Typer application; each feature adds its own command group."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from oberih.audit import cli as audit_cli
from oberih.auth import cli as auth_cli
from oberih.cli import bench, db, demo, persons, population, serve
from oberih.documents import cli as documents_cli
from oberih.exchange import cli as exchange_cli
from oberih.exchange.merge import MergeNotAllowed
from oberih.exchange.services import (
    BatchNotFound,
    NotQuarantined,
    RecordNotFound,
    ReviewClosed,
    ReviewNotFound,
)
from oberih.persons.services import IdentifierTaken, PersonNotFound
from oberih.population import cli as population_cli
from oberih.rules import cli as rules_cli

# Refusals of the register an operator acts on: one line and exit status 1, never a traceback;
# nothing is written (each command's unit of work rolls back).
_NOT_FOUND: dict[type[Exception], str] = {
    BatchNotFound: "no such batch",
    RecordNotFound: "no such record",
    ReviewNotFound: "no such review",
    PersonNotFound: "no such person",
}
_REFUSED: tuple[type[Exception], ...] = (
    NotQuarantined,
    ReviewClosed,
    MergeNotAllowed,
    IdentifierTaken,
)
EXIT_REFUSED = 1


class _Root(TyperGroup):
    """The root group: says the register's refusals of any command (see above)."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except tuple(_NOT_FOUND) as exc:
            typer.echo(f"oberih: {_NOT_FOUND[type(exc)]}: {exc}", err=True)
            raise typer.Exit(EXIT_REFUSED) from None
        except _REFUSED as exc:
            typer.echo(f"oberih: refused: {exc}", err=True)
            raise typer.Exit(EXIT_REFUSED) from None


app = typer.Typer(
    cls=_Root,
    no_args_is_help=True,
    help="oberih: the register of persons liable for service.",
)
app.add_typer(db.app, name="db")
app.add_typer(persons.app, name="person")
app.add_typer(bench.app, name="bench")
app.add_typer(rules_cli.app, name="rules")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(auth_cli.app, name="dev")
app.add_typer(documents_cli.keys_app, name="keys")
app.add_typer(documents_cli.app, name="doc")
app.add_typer(exchange_cli.app, name="exchange")
app.command("rebuild")(persons.rebuild_command)
population_cli.generate_app.command("feeds")(exchange_cli.feeds_command)
app.add_typer(population_cli.generate_app, name="generate")
app.command("load")(population.load_command)
app.command("import")(exchange_cli.import_command)
app.command("dedup")(exchange_cli.dedup_command)
app.command("demo")(demo.demo_command)
app.command("serve")(serve.serve_command)


@app.callback()
def root() -> None:
    """oberih: the register of conscripts, persons liable for military service and reservists."""


@app.command()
def version() -> None:
    """Print the package version."""
    from oberih import __version__

    typer.echo(__version__)
