"""``oberih exchange ...`` and ``oberih import``: schemas, signed file intake, workers,
quarantine and identity review from the command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from oberih.exchange.messages import message_schema, parse_source

app = typer.Typer(no_args_is_help=True, help="Data exchange with the source registers.")

SourceArgument = Annotated[str, typer.Argument(help="Source register, e.g. tax, civil_status.")]


@app.command("schema")
def schema_command(source: SourceArgument) -> None:
    """Print the JSON Schema of a source register's messages."""
    typer.echo(json.dumps(message_schema(parse_source(source)), ensure_ascii=False, indent=2))
