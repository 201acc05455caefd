"""``oberih generate``: write a synthetic population to a JSON Lines file, with a progress bar."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from oberih.population.generator import generate_population
from oberih.population.jsonl import write_jsonl
from oberih.population.models import GeneratedPerson

_PROGRESS_STEP = 1_000


def generate_command(
    persons: int, seed: int, out: Path, reference_date: dt.date | None = None
) -> int:
    """Generate ``persons`` persons into ``out`` (``.gz`` compresses); returns the count.

    Without a reference date, today's date (UTC) is used: give one for reproducible files.
    """
    reference = reference_date or dt.datetime.now(dt.UTC).date()
    console = Console(stderr=True)
    started = time.perf_counter()
    columns = (
        TextColumn("[bold]generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("persons", total=persons)
        people = generate_population(persons=persons, seed=seed, reference_date=reference)
        written = write_jsonl(_counted(people, progress, task), out)
        progress.update(task, completed=written)
    elapsed = time.perf_counter() - started
    rate = written / elapsed if elapsed > 0 else float(written)
    console.print(f"{written:,} persons written to {out} in {elapsed:.1f} s ({rate:,.0f}/s)")
    return written


def _counted(
    people: Iterator[GeneratedPerson], progress: Progress, task: TaskID
) -> Iterator[GeneratedPerson]:
    for count, person in enumerate(people, start=1):
        if count % _PROGRESS_STEP == 0:
            progress.update(task, completed=count)
        yield person


app = typer.Typer(help="Synthetic population (no real personal data).")

# ``oberih generate --out FILE`` writes a population; ``oberih generate feeds`` (the exchange's)
# derives the source registers' messages from one. A group whose callback runs when no
# subcommand is named keeps both spellings.
generate_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    help="Generate a synthetic population (or, with 'feeds', the source registers' feeds).",
)


@generate_app.callback()
def generate(
    context: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="JSON Lines file to write (.gz compresses)")
    ] = None,
    persons: Annotated[int, typer.Option(min=0, help="How many persons")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same population")] = 1,
    reference_date: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="World date of the population (default today)"),
    ] = None,
) -> None:
    """Generate a synthetic population into a JSON Lines file."""
    if context.invoked_subcommand is not None:
        return
    if out is None:
        raise typer.BadParameter("give the file to write with --out", param_hint="--out")
    generate_command(persons, seed, out, reference_date.date() if reference_date else None)
