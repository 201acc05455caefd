"""``oberih bench ...``: performance figures against a baseline measured in the same run.

Each command prints one JSON line. Benchmarks are commands, never timed unit tests.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from oberih.cli.context import database_url as configured_url
from oberih.exchange.cli import FaultOption, fault_rates

app = typer.Typer(no_args_is_help=True, help="Benchmarks (each prints one JSON line).")
Persons = Annotated[int, typer.Option(min=1, help="Population size.")]
Seed = Annotated[int, typer.Option(help="Population seed.")]
BenchUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="A fresh database (default: OBERIH_DATABASE_URL)."),
]


def _print(result: dict[str, Any]) -> None:
    typer.echo(json.dumps(result, ensure_ascii=False))


@app.command("load")
def load_command(
    persons: Persons = 100_000,
    database_url: BenchUrl = None,
    seed: Seed = 1,
    workers: Annotated[int, typer.Option(min=1, help="Loader processes (PostgreSQL).")] = 2,
) -> None:
    """Bulk load N generated persons end to end vs a bare COPY of the same projection rows."""
    from oberih.persons.bench_load import run_load_benchmark

    _print(
        run_load_benchmark(
            persons=persons, database_url=configured_url(database_url), seed=seed, workers=workers
        )
    )


@app.command("search")
def search_command(
    persons: Persons = 100_000,
    database_url: BenchUrl = None,
    seed: Seed = 1,
    queries: Annotated[int, typer.Option(min=10, help="Measured queries.")] = 200,
) -> None:
    """Misspelled full-name searches: p50/p95 vs a bare pg_trgm similarity query, same data."""
    from oberih.persons.bench_search import run_search_benchmark

    _print(
        run_search_benchmark(
            persons=persons, database_url=configured_url(database_url), seed=seed, queries=queries
        )
    )


@app.command("rules")
def rules_command(
    persons: Persons = 100_000,
    database_url: BenchUrl = None,
    seed: Seed = 1,
    workers: Annotated[int, typer.Option(min=1, help="Recompute processes.")] = 2,
) -> None:
    """Full recompute of determinations and single evaluations with explanation."""
    from oberih.rules.bench import run_rules_benchmark

    _print(
        run_rules_benchmark(
            persons=persons, database_url=configured_url(database_url), seed=seed, workers=workers
        )
    )


@app.command("api")
def api_command(
    persons: Persons = 10_000,
    database_url: BenchUrl = None,
    seed: Seed = 1,
    seconds: Annotated[float, typer.Option(min=1, help="Measured seconds per round.")] = 10.0,
    rounds: Annotated[
        int | None,
        typer.Option(
            min=1, help="Rounds, each measuring both servers (medians); 5 when not given."
        ),
    ] = None,
    connections: Annotated[
        int | None,
        typer.Option(min=1, help="Concurrent keep-alive connections (clients); 32 when not given."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 2,
) -> None:
    """Authenticated person reads over HTTP (uvicorn, loopback), audited vs not audited."""
    from oberih.api.bench import DEFAULT_CONNECTIONS, DEFAULT_ROUNDS, run_api_benchmark

    _print(
        run_api_benchmark(
            database_url=configured_url(database_url),
            persons=persons,
            seed=seed,
            seconds=seconds,
            rounds=rounds or DEFAULT_ROUNDS,
            connections=connections or DEFAULT_CONNECTIONS,
            workers=workers,
        )
    )


@app.command("match")
def match_command(
    seed: Seed = 1,
    persons: Persons = 2_000,
    database_url: BenchUrl = None,
    febrl: Annotated[
        bool, typer.Option("--febrl", help="FEBRL4 instead: ours vs recordlinkage and Splink.")
    ] = False,
    fault: FaultOption = None,
) -> None:
    """Identity resolution over generated feeds with faults, against the ground truth; or,
    with --febrl, on the FEBRL4 benchmark beside recordlinkage and Splink."""
    if febrl:
        from oberih.exchange.febrl import run_febrl_benchmark

        _print(run_febrl_benchmark())
        return
    from oberih.exchange.bench import run_match_benchmark

    rates = fault_rates(fault)
    _print(run_match_benchmark(persons=persons, seed=seed, database_url=database_url, rates=rates))


@app.command("doc")
def doc_command(
    documents: Annotated[int, typer.Option(min=10, help="Distinct documents.")] = 500,
    seconds: Annotated[float, typer.Option(min=0.3, help="Measured seconds per figure.")] = 3.0,
) -> None:
    """Documents issued and verified offline per second on one core, vs bare ES256 verify."""
    import tempfile
    from pathlib import Path

    from oberih.documents.bench import run_document_benchmark

    with tempfile.TemporaryDirectory() as directory:
        _print(
            run_document_benchmark(
                documents=documents, seconds=seconds, directory=Path(directory) / "keys"
            )
        )


@app.command("ingest")
def ingest_command(
    records: Annotated[int, typer.Option(min=10, help="Feed records to push through.")] = 2_000,
    database_url: BenchUrl = None,
    seed: Seed = 1,
    workers: Annotated[
        int, typer.Option(min=1, max=16, help="Intake worker processes (PostgreSQL).")
    ] = 2,
) -> None:
    """Signed feeds through the whole intake path vs a bare insert of as many rows."""
    from oberih.exchange.bench import run_ingest_benchmark

    _print(
        run_ingest_benchmark(records=records, seed=seed, database_url=database_url, workers=workers)
    )
