"""``oberih rules ...``: what-if evaluation, scenario tests, the situation schema, the profile.

Mounted by the root CLI as ``oberih rules`` (``app``); ``bench_command`` is the body of
``oberih bench rules``. Commands that touch the database build their engine here, at the edge.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from oberih.rules.determination import determine
from oberih.rules.explain import LANGUAGES, explain
from oberih.rules.profile import (
    DEFAULT_PROFILE,
    OutsideHorizon,
    Profile,
    ProfileError,
    load_profile,
)
from oberih.rules.scenarios import ScenarioFileError, run_scenarios
from oberih.rules.situation import situation_from_json, situation_schema

app = typer.Typer(no_args_is_help=True, help="Legal rules: determinations, scenarios, profile.")

ProfileOption = Annotated[
    str, typer.Option("--profile", help="Profile code (packaged) or path to a profile YAML.")
]


def _profile(source: str) -> Profile:
    try:
        return load_profile(source)
    except ProfileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _read_request(source: Path | None) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if source is None or str(source) == "-" else source.read_text()
        data = json.loads(text)
    except OSError as exc:
        raise _fail(f"cannot read {source}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise _fail(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _fail("the input must be a JSON object (a situation, or {on, situation})")
    return data


@app.command("evaluate")
def evaluate_command(
    source: Annotated[
        Path | None, typer.Argument(help="Situation JSON file; '-' or nothing reads stdin.")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Day to evaluate (YYYY-MM-DD); default today.")
    ] = None,
    profile: ProfileOption = DEFAULT_PROFILE,
    text: Annotated[
        str | None, typer.Option("--text", help="Print the plain-language explanation: uk or en.")
    ] = None,
) -> None:
    """Evaluate a what-if situation (nothing is stored); print the determination JSON.

    The input is a situation (see ``oberih rules schema``) or ``{"on": DAY, "situation": {...}}``.
    """
    request = _read_request(source)
    if "situation" in request:
        situation_data, day_text = request["situation"], on or request.get("on")
    else:
        situation_data, day_text = request, on
    try:
        day = dt.date.fromisoformat(day_text) if day_text else _today()
    except ValueError:
        raise _fail(f"not a day: {day_text!r} (use YYYY-MM-DD)") from None
    if text is not None and text not in LANGUAGES:
        raise _fail(f"--text must be one of {', '.join(LANGUAGES)}")
    chosen = _profile(profile)
    try:
        determination = determine(situation_from_json(situation_data), day, chosen)
    except ValidationError as exc:
        for err in exc.errors(include_input=False):
            where = ".".join(str(p) for p in err["loc"])
            typer.echo(f"error: situation.{where}: {err['msg']}", err=True)
        raise typer.Exit(2) from None
    except OutsideHorizon as exc:
        raise _fail(str(exc)) from None
    if text is not None:
        typer.echo(explain(determination, language=text, profile=chosen))
        return
    typer.echo(json.dumps(determination.to_json(), ensure_ascii=False, indent=2))


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of what-if situations."""
    typer.echo(json.dumps(situation_schema(), ensure_ascii=False, indent=2))


@app.command("test")
def test_command(
    paths: Annotated[list[Path], typer.Argument(help="Scenario YAML files or folders.")],
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="Profile for every file (default: the file's or ua)."),
    ] = None,
) -> None:
    """Run YAML scenarios; exit 1 if any expectation fails (each failure says which and why)."""
    chosen = _profile(profile) if profile else None
    try:
        results = run_scenarios(paths, chosen)
    except ScenarioFileError as exc:
        raise _fail(str(exc)) from None
    failed = [result for result in results if not result.passed]
    for result in failed:
        for line in result.describe():
            typer.echo(line)
    passed = len(results) - len(failed)
    typer.echo(f"{passed} passed, {len(failed)} failed, {len(results)} scenarios")
    if failed or not results:
        raise typer.Exit(1)


@app.command("profile")
def profile_command(
    profile: ProfileOption = DEFAULT_PROFILE,
    on: Annotated[
        str | None, typer.Option("--on", help="Show the values in force on this day.")
    ] = None,
) -> None:
    """List the profile's parameters and deferral grounds with citations (unconfirmed marked *)."""
    chosen = _profile(profile)
    day = dt.date.fromisoformat(on) if on else None
    typer.echo(f"{chosen.key} ({chosen.title.get('en')}), horizon {chosen.horizon.isoformat()}")
    for name, parameter in sorted(chosen.parameters.items()):
        values = [parameter.at(day)] if day else list(parameter.values)
        for value in values:
            if value is None:
                typer.echo(f"{name}: not in force")
                continue
            mark = "" if value.citation.confirmed else " *"
            typer.echo(
                f"{name} from {value.valid_from.isoformat()}: {json.dumps(value.value, ensure_ascii=False)}"
                f"  [{value.citation.text('en')}]{mark}"
            )
    typer.echo("* not confirmed against the official text; see the profile's notes")


@app.command("recompute")
def recompute_command(
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: OBERIH_DATABASE_URL.")
    ] = None,
    on: Annotated[str | None, typer.Option("--on", help="Day (YYYY-MM-DD); default today.")] = None,
    changed_since: Annotated[
        str | None,
        typer.Option("--changed-since", help="Only persons with facts recorded after (ISO time)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=8)] = 1,
) -> None:
    """Recompute stored determinations; write only those that changed."""
    from oberih.cli.context import open_engine
    from oberih.rules.services import recompute

    since = dt.datetime.fromisoformat(changed_since) if changed_since else None
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    day = dt.date.fromisoformat(on) if on else _today()
    with open_engine(database_url) as engine:
        report = recompute(engine, at=day, changed_since=since, workers=workers)
    typer.echo(json.dumps(report.to_json()))


def bench_command(
    persons: Annotated[int, typer.Option(min=1, help="Population size.")] = 100_000,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="A fresh database (default: OBERIH_DATABASE_URL)."),
    ] = None,
    seed: int = 1,
    workers: Annotated[int, typer.Option(min=1, max=8)] = 2,
) -> None:
    """Full recompute of determinations, and single-evaluation latency (one JSON line)."""
    from oberih.cli.context import database_url as configured_url
    from oberih.rules.bench import run_rules_benchmark

    result = run_rules_benchmark(
        persons=persons, database_url=configured_url(database_url), seed=seed, workers=workers
    )
    typer.echo(json.dumps(result))
