"""The root Typer application; each feature adds its own command group."""

from __future__ import annotations

from typing import Any

import psycopg
import sqlalchemy.exc
import typer
from typer.core import TyperGroup

from oberih.audit import cli as audit_cli
from oberih.auth import cli as auth_cli
from oberih.cli import bench, db, demo, persons, population, serve
from oberih.documents import cli as documents_cli
from oberih.exchange import cli as exchange_cli
from oberih.exchange.duplicates import DuplicateClosed, DuplicateNotFound, NotOfThePair
from oberih.exchange.merge import MergeNotAllowed, MergeNotFound
from oberih.exchange.messages import UnknownSource
from oberih.exchange.services import (
    BatchNotFound,
    NotACandidate,
    NotQuarantined,
    RecordNotFound,
    ReviewClosed,
    ReviewNotFound,
)
from oberih.persons.services import IdentifierTaken, PersonNotFound
from oberih.population import cli as population_cli
from oberih.rules import cli as rules_cli

# What an operator acts on is said in one line with its own exit status, never a traceback;
# nothing is written (each command's unit of work rolls back). The register's refusals: 1.
_NOT_FOUND: dict[type[Exception], str] = {
    BatchNotFound: "no such batch",
    RecordNotFound: "no such record",
    ReviewNotFound: "no such review",
    PersonNotFound: "no such person",
    MergeNotFound: "no such merge",
    DuplicateNotFound: "no such duplicate pair",
}
_REFUSED: tuple[type[Exception], ...] = (
    NotACandidate,
    NotQuarantined,
    ReviewClosed,
    MergeNotAllowed,
    IdentifierTaken,
    DuplicateClosed,
    NotOfThePair,
)
EXIT_REFUSED = 1
# sysexits.h EX_UNAVAILABLE: the database could not be reached or refused the work; a script or
# a supervisor can tell it from a usage error (2) or a failed check (1).
EXIT_DATABASE_UNAVAILABLE = 69
# sysexits.h EX_IOERR: a file the command was told to read or write could not be.
EXIT_FILE_ERROR = 74


class _Root(TyperGroup):
    """The root group: says, for any command, what the comments above list."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except (sqlalchemy.exc.OperationalError, psycopg.OperationalError) as exc:
            # The driver's own reason (which database, which host, what it said), never the
            # statement or its parameters.
            typer.echo(f"oberih: database unavailable: {database_reason(exc)}", err=True)
            raise typer.Exit(EXIT_DATABASE_UNAVAILABLE) from None
        except OSError as exc:  # a path the operator gave: the path and the reason
            where = f"{exc.filename}: " if exc.filename is not None else ""
            typer.echo(f"oberih: {where}{exc.strerror or exc}", err=True)
            raise typer.Exit(EXIT_FILE_ERROR) from None
        except UnknownSource as exc:  # its message names the source and the known ones
            typer.echo(f"oberih: {exc}", err=True)
            raise typer.Exit(EXIT_REFUSED) from None
        except tuple(_NOT_FOUND) as exc:
            typer.echo(f"oberih: {_NOT_FOUND[type(exc)]}: {exc}", err=True)
            raise typer.Exit(EXIT_REFUSED) from None
        except _REFUSED as exc:
            typer.echo(f"oberih: refused: {exc}", err=True)
            raise typer.Exit(EXIT_REFUSED) from None


def database_reason(exc: BaseException) -> str:
    """The driver's message of ``exc`` on one line (SQLAlchemy wraps it with the statement)."""
    reason = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) else exc
    return " ".join(str(reason).split()) or type(reason).__name__


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
