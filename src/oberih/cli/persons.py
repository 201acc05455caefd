"""``oberih person ...`` and ``oberih rebuild``: read the register from the command line."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from oberih.cli.context import console, err_console, open_engine, unit_of_work
from oberih.cli.db import DatabaseUrl
from oberih.identifiers import InvalidIdentifier, parse_rnokpp
from oberih.persons.services import (
    PersonNotFound,
    find_person_by_identifier,
    get_state,
    rebuild_projections,
)
from oberih.persons.state import Entry, PersonState

app = typer.Typer(no_args_is_help=True, help="Persons in the register.")


def resolve_person(session: Any, reference: str) -> uuid.UUID:
    """A person id (UUID) or an RNOKPP."""
    try:
        return uuid.UUID(reference)
    except ValueError:
        pass
    try:
        rnokpp = parse_rnokpp(reference)
    except InvalidIdentifier as exc:
        raise typer.BadParameter(f"not a person id, and not an RNOKPP: {exc}") from None
    person_id = find_person_by_identifier(session, "rnokpp", rnokpp.value)
    if person_id is None:
        raise PersonNotFound("no person with this RNOKPP")
    return person_id


def _parse_moment(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@app.command("show")
def show_command(
    reference: Annotated[str, typer.Argument(help="Person id or RNOKPP.")],
    valid_at: Annotated[
        str | None, typer.Option(help="World date (YYYY-MM-DD): what was true then.")
    ] = None,
    known_at: Annotated[
        str | None, typer.Option(help="Register time (ISO 8601): as the register knew it then.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Show a person's state with the provenance of every field."""
    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        try:
            person_id = resolve_person(session, reference)
            state = get_state(
                session,
                person_id,
                valid_at=dt.date.fromisoformat(valid_at) if valid_at else None,
                known_at=_parse_moment(known_at),
            )
        except PersonNotFound as exc:
            err_console.print(f"[red]not found:[/] {exc}")
            raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(state.to_json(), ensure_ascii=False, indent=2))
        return
    console.print(state_table(state))


def state_table(state: PersonState) -> Table:
    table = Table(title=f"person {state.person_id} · version {state.version}")
    for column in ("field", "value", "valid from", "valid to", "source", "fact"):
        table.add_column(column)
    for name, entry in _entries(state):
        table.add_row(
            name,
            _describe(entry.data),
            str(entry.valid_from or ""),
            str(entry.valid_to or ""),
            f"{entry.source}:{entry.source_record_id}",
            str(entry.fact_id)[:8],
        )
    return table


def _entries(state: PersonState) -> list[tuple[str, Entry]]:
    document = state.to_json()
    entries: list[tuple[str, Entry]] = []
    for name in document:
        value = getattr(state, name, None)
        if isinstance(value, Entry):
            entries.append((name, value))
        elif isinstance(value, list):
            entries.extend((name, item) for item in value if isinstance(item, Entry))
    return entries


def _describe(data: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in data.items())


def rebuild_command(database_url: DatabaseUrl = None) -> None:
    """Rebuild every projection from the journal and report how many rows differed."""
    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        report = rebuild_projections(session)
    console.print(
        f"rebuilt {report.persons} persons: {report.changed} projection rows differed "
        f"from the journal; {report.name_keys} distinct name keys"
    )
