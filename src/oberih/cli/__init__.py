"""Command line: ``oberih ...`` (Typer + Rich)."""

from __future__ import annotations

import psycopg
import sqlalchemy.exc
import typer

from oberih.cli.app import EXIT_REFUSED, app

# sysexits.h EX_UNAVAILABLE: the database could not be reached or refused the work; a script or
# a supervisor can tell it from a usage error (2) or a failed check (1).
EXIT_DATABASE_UNAVAILABLE = 69
# sysexits.h EX_IOERR: a file the command was told to read or write could not be.
EXIT_FILE_ERROR = 74


def main() -> None:
    try:
        app()
    except (sqlalchemy.exc.OperationalError, psycopg.OperationalError) as exc:
        # One line an operator can act on, not a traceback: the driver's own reason (which
        # database, which host, what it said), never the statement or its parameters.
        typer.echo(f"oberih: database unavailable: {database_reason(exc)}", err=True)
        raise SystemExit(EXIT_DATABASE_UNAVAILABLE) from None
    except OSError as exc:
        # A path the operator gave that cannot be read or written: the path and the reason.
        where = f"{exc.filename}: " if exc.filename is not None else ""
        typer.echo(f"oberih: {where}{exc.strerror or exc}", err=True)
        raise SystemExit(EXIT_FILE_ERROR) from None


def database_reason(exc: BaseException) -> str:
    """The driver's message of ``exc`` on one line (SQLAlchemy wraps it with the statement)."""
    reason = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) else exc
    return " ".join(str(reason).split()) or type(reason).__name__


__all__ = [
    "EXIT_DATABASE_UNAVAILABLE",
    "EXIT_FILE_ERROR",
    "EXIT_REFUSED",
    "app",
    "database_reason",
    "main",
]
