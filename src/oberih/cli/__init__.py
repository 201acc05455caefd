"""Command line: ``oberih ...`` (Typer + Rich)."""

from __future__ import annotations

from oberih.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
