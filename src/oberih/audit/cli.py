"""``oberih audit ...``: verify the audit log, sign a checkpoint now, show the verifier key, run
the sequencer.

Exit codes of ``verify``: 0 intact, 1 tampering found (each finding names its kind and the
first event position), 2 a usage or key problem, 69 the database unavailable (``oberih.cli``).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlalchemy.orm import Session

from oberih.audit.checkpoints import CheckpointError, VerifierKey, parse_verifier_key
from oberih.audit.services import CheckpointPolicy, sequence_inbox, sign_checkpoint_now
from oberih.audit.signing import AuditKeyError, AuditSettings, AuditSigner, load_audit_signer
from oberih.audit.tasks import run_checkpoints
from oberih.audit.verification import Progress as ProgressCallback
from oberih.audit.verification import VerificationReport, verify_log
from oberih.config import load_settings
from oberih.db.engine import make_engine, make_session_factory

# Self-contained, as every feature's cli (``oberih.cli.app`` imports this module to mount it).
app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")
console = Console()
err_console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="Overrides OBERIH_DATABASE_URL.")
]

VerifierKeys = Annotated[
    list[str] | None,
    typer.Option(
        "--verifier-key",
        help="A trusted checkpoint key <name>+<id>+<key> (repeatable). "
        "Default: the public half of the configured signing key.",
    ),
]
ExternalCheckpoints = Annotated[
    list[Path] | None,
    typer.Option(
        "--checkpoint",
        exists=True,
        dir_okay=False,
        help="A signed checkpoint kept outside the database (repeatable), e.g. a published one.",
    ),
]


@app.command("verify")
def verify_command(
    verifier_key: VerifierKeys = None,
    checkpoint: ExternalCheckpoints = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Recompute the tree from the stored events and check every signed checkpoint."""
    audit_settings = AuditSettings()
    keys = _verifier_keys(verifier_key or [], audit_settings)
    notes = [path.read_text(encoding="utf-8") for path in checkpoint or []]
    _sequence(database_url)
    with _transaction(database_url) as session, _progress() as step:
        report = verify_log(
            session,
            verifier_keys=keys,
            origin=audit_settings.origin,
            external_checkpoints=notes,
            progress=step,
        )
    _print_report(report)
    if not report.intact:
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint_command(database_url: DatabaseUrl = None) -> None:
    """Sign a checkpoint of the log as it stands now and print it (a signed note)."""
    signer = _signer(AuditSettings())
    with _transaction(database_url) as session:
        _sequence_all(session)
        stored = sign_checkpoint_now(session, signer=signer, now=dt.datetime.now(dt.UTC))
    typer.echo(stored.note, nl=False)


@app.command("sequencer")
def sequencer_command(
    database_url: DatabaseUrl = None,
    poll_seconds: Annotated[
        float, typer.Option(min=0.05, max=60, help="Seconds between looks at the inbox.")
    ] = 1.0,
) -> None:
    """Sequence the audit inbox into the Merkle tree and sign due checkpoints, until stopped
    (SIGTERM or Ctrl-C). ``oberih serve --workers N`` runs one beside its workers; run it
    yourself when the service processes have OBERIH_AUDIT_SEQUENCER=false."""
    settings = load_settings()
    signer = _signer(AuditSettings())
    engine = make_engine(database_url or settings.database_url)
    stop = asyncio.Event()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop.set)
        await run_checkpoints(
            make_session_factory(engine),
            signer=signer,
            policy=CheckpointPolicy.from_settings(AuditSettings()),
            poll_seconds=poll_seconds,
            stop=stop,
        )

    try:
        asyncio.run(run())
    finally:
        engine.dispose()


@app.command("key")
def key_command() -> None:
    """Print the verifier key (public) of the configured checkpoint signing key."""
    typer.echo(_signer(AuditSettings()).verifier_key)


def _signer(audit_settings: AuditSettings) -> AuditSigner:
    try:
        return load_audit_signer(load_settings(), audit_settings)
    except AuditKeyError as exc:
        err_console.print(f"[red]audit key:[/] {exc}")
        raise typer.Exit(2) from None


def _verifier_keys(texts: list[str], audit_settings: AuditSettings) -> list[VerifierKey]:
    if not texts:
        return [_signer(audit_settings).verifier()]
    try:
        return [parse_verifier_key(text) for text in texts]
    except CheckpointError as exc:
        raise typer.BadParameter(str(exc), param_hint="--verifier-key") from None


def _sequence(database_url: str | None) -> None:
    """Append the settled inbox rows first, in a transaction of its own (committed), so that
    the walk then sees every audit event recorded so far."""
    with _transaction(database_url) as session:
        _sequence_all(session)


def _sequence_all(session: Session) -> None:
    while sequence_inbox(session):
        pass


@contextmanager
def _transaction(database_url: str | None) -> Iterator[Session]:
    """One transaction on the configured (or given) database, committed when the block ends."""
    engine = make_engine(database_url or load_settings().database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


@contextmanager
def _progress() -> Iterator[ProgressCallback]:
    """A progress bar on a terminal (it vanishes when done); silent otherwise."""
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    task = bar.add_task("verifying events", total=None)

    def step(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield step


def _print_report(report: VerificationReport) -> None:
    if report.intact:
        root = base64.b64encode(report.root_hash).decode("ascii")
        console.print(
            f"[green]audit log intact[/]: {report.tree_size} events, "
            f"{report.checkpoints} signed checkpoints reproduced, root {root}"
        )
        if report.tree_size and not report.checkpoints:
            console.print("[yellow]no signed checkpoint yet:[/] only stored hashes vouch for it")
        return
    for finding in report.findings:
        err_console.print(f"[red]TAMPERED[/] {finding}")
