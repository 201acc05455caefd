"""``oberih person ...`` and ``oberih rebuild``: read the register from the command line."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from oberih.audit.events import AuditEvent
from oberih.audit.services import record_event
from oberih.cli.context import console, err_console, open_engine, unit_of_work
from oberih.cli.db import DatabaseUrl
from oberih.identifiers import InvalidIdentifier, parse_rnokpp
from oberih.persons.search import InvalidSearch, search_persons
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


def operator() -> str:
    """Who runs the command: reads from the command line are audited like any other."""
    return f"cli:{getpass.getuser()}"[:160]


def _audit(session: Any, action: str, person_id: uuid.UUID | None, fields: tuple[str, ...]) -> None:
    record_event(
        session,
        AuditEvent(
            action=action,
            outcome="allowed",
            actor=operator(),
            role="operator",
            office_code=None,
            purpose="operator-cli",
            person_id=person_id,
            fields=fields,
            request_id=None,
        ),
        now=dt.datetime.now(dt.UTC),
    )


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
        _audit(session, "person:record:read", person_id, ("state",))
    if as_json:
        typer.echo(json.dumps(state.to_json(), ensure_ascii=False, indent=2))
        return
    console.print(state_table(state))


@app.command("search")
def search_command(
    text: Annotated[str, typer.Argument(help="An identifier, or a name (Cyrillic or Latin).")],
    birth_year: Annotated[int | None, typer.Option(help="Narrow to a birth year.")] = None,
    region: Annotated[str | None, typer.Option(help="Narrow to an oblast code, e.g. UA46.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as JSON.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Search by identifier or typo-tolerant name; best matches first."""
    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        try:
            hits = search_persons(
                session, query=text, birth_year=birth_year, region=region, limit=limit
            )
        except InvalidSearch as exc:
            err_console.print(f"[red]invalid search:[/] {exc}")
            raise typer.Exit(2) from None
        _audit(session, "person:search", None, ())
        for hit in hits:
            _audit(session, "person:search:hit", hit.person_id, ("identity",))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "person_id": str(h.person_id),
                        "score": round(h.score, 4),
                        "matched_by": h.matched_by,
                        "surname": h.surname,
                        "given_name": h.given_name,
                        "patronymic": h.patronymic,
                        "birth_date": h.birth_date.isoformat() if h.birth_date else None,
                        "region": h.region,
                        "office_code": h.office_code,
                    }
                    for h in hits
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    table = Table(title=f"{len(hits)} best matches")
    for column in ("score", "name", "born", "region", "office", "person id"):
        table.add_column(column)
    for h in hits:
        name = " ".join(part for part in (h.surname, h.given_name, h.patronymic) if part)
        table.add_row(
            f"{h.score:.2f}",
            name,
            str(h.birth_date or ""),
            h.region or "",
            h.office_code or "",
            str(h.person_id),
        )
    console.print(table)


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
