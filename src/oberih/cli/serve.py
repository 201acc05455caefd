"""``oberih serve``: the register's HTTP service (uvicorn).

One worker process serves everything, the audit sequencer included (as ``oberih demo`` does).
With ``--workers N`` (N > 1) the workers share the listening socket (uvicorn's supervisor), leave
the audit inbox to one ``oberih audit sequencer`` process started beside them, and stop with it:
sequencing in every worker would hold each one's interpreter lock against its requests, and N
processes would poll for the same rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Annotated

import typer
from rich.console import Console

from oberih.config import InsecureConfiguration, load_settings

err_console = Console(stderr=True)

SEQUENCER_STOP_SECONDS = 20
SEQUENCER_RESTART_SECONDS = 1.0
# uvicorn's access log is off: its lines carry the paths, and the paths carry person ids. Who
# accessed whose record is the audit log's to keep (with purpose and outcome); the service's own
# log lines carry request ids.


def serve_command(
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides OBERIH_DATABASE_URL.")
    ] = None,
) -> None:
    """Serve the API; with several workers, one audit sequencer process runs beside them."""
    import uvicorn

    from oberih.api.app import create_app
    from oberih.audit.signing import AuditKeyError
    from oberih.documents.keys import DocumentKeyError
    from oberih.exchange.signing import InvalidKeyRing

    if database_url:
        os.environ["OBERIH_DATABASE_URL"] = database_url
    try:
        # Built here even when the workers build their own: a configuration that would stop
        # them (no identity provider, no audit key outside development) stops us once, clearly.
        app = create_app(load_settings(), serving=workers == 1)
    except (InsecureConfiguration, AuditKeyError, DocumentKeyError, InvalidKeyRing) as exc:
        # One line whatever the terminal's width: a supervisor's log keeps it whole.
        err_console.print(f"[red]refusing to start:[/] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
        return
    os.environ["OBERIH_AUDIT_SEQUENCER"] = "false"  # read by the workers' settings
    sequencer = SequencerSupervisor()
    sequencer.start()
    try:
        uvicorn.run(
            "oberih.api.app:serving_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,
        )
    finally:
        sequencer.stop()


class SequencerSupervisor:
    """Keeps one ``oberih audit sequencer`` process running beside the workers: one that exits
    (a crash, an operator's kill) is started again after ``SEQUENCER_RESTART_SECONDS``, so the
    audit inbox does not silently stop becoming leaves and checkpoints while reads go on."""

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._run, name="sequencer", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def _spawn(self) -> None:
        with self._lock:
            if not self._stopping.is_set():
                command = [sys.executable, "-m", "oberih", "audit", "sequencer"]
                self._process = subprocess.Popen(command)  # noqa: S603

    def _run(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            if process is None or process.poll() is None:
                self._stopping.wait(1.0)
                continue
            err_console.print(
                f"[red]audit sequencer exited ({process.returncode}); restarting it[/]"
            )
            self._stopping.wait(SEQUENCER_RESTART_SECONDS)
            self._spawn()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self._process
        self._thread.join(timeout=5)
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=SEQUENCER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
