"""Command line: ``oberih ...`` (Typer + Rich)."""

from __future__ import annotations

from oberih.cli.app import (
    EXIT_DATABASE_UNAVAILABLE,
    EXIT_FILE_ERROR,
    EXIT_REFUSED,
    app,
    database_reason,
)


def main() -> None:
    app()


__all__ = [
    "EXIT_DATABASE_UNAVAILABLE",
    "EXIT_FILE_ERROR",
    "EXIT_REFUSED",
    "app",
    "database_reason",
    "main",
]
