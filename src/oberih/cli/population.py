"""``oberih load``: bulk loading of a population file (``generate`` lives in population.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from oberih.cli.context import console, open_engine
from oberih.cli.db import DatabaseUrl
from oberih.db.migrate import upgrade
from oberih.persons.bulk import load_file
from oberih.population.jsonl import open_text


def progress_bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def load_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON Lines file.")],
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes (PostgreSQL).")] = 2,
) -> None:
    """Load a generated population file (.jsonl or .jsonl.gz) into the register (COPY on
    PostgreSQL, in parallel worker processes)."""
    with open_text(path, "r") as lines:
        total = sum(1 for _ in lines)
    with open_engine(database_url) as engine:
        upgrade(engine)
        with progress_bar() as bar:
            task = bar.add_task("loading", total=total)
            report = load_file(
                engine, path, workers=workers, on_batch=lambda n: bar.advance(task, n)
            )
    console.print(
        f"loaded {report.persons} persons, {report.facts} facts, {report.identifiers} "
        f"identifiers, {report.name_keys} distinct name keys"
    )
