"""``oberih bench api``: authenticated person reads through the real HTTP stack, audited or not.

1. Load N generated persons (skipped when the database already holds exactly N).
2. Pick up to 1,000 persons registered at a recruitment office and mint, with the development
   issuer, a token for an officer of each one's office; every read carries a declared purpose.
3. Serve the app twice on 127.0.0.1: as in service, and with reads of a person's record left
   unaudited (the baseline, development mode only). Each is ``workers`` uvicorn processes on
   ports of their own, the connections spread over them as a load balancer would (uvicorn's own
   ``--workers`` share one socket, and keep-alive connections all land on whichever accepts
   first), and, as ``oberih serve --workers N`` runs them, one ``oberih audit sequencer``
   process beside the audited server's workers (its CPU counts in the server's; the baseline
   records nothing to sequence).
4. One load-generator process keeps ``connections`` (default 32, see ``DEFAULT_CONNECTIONS``)
   keep-alive HTTP/1.1 connections busy with
   ``GET /api/v1/persons/{id}``, in rounds alternating between the two servers (so that a change
   in the machine's load hits both alike): a short warm-up, then ``seconds`` measured. Each
   round measures both servers back to back, in turn first (audited first in odd rounds, the
   baseline first in even ones), so that neither is always measured right after the other.
5. Figures are medians over the rounds; latencies are measured by the client, request sent to
   response read. ``audit_overhead`` is the median of each round's own ratio (1 - audited /
   unaudited reads per second in that round): on a shared machine whose speed drifts from one
   minute to the next, the two measurements of a round are the ones taken under the same
   conditions; ``audit_overhead_rounds`` lists them. ``server_cpu_ms_per_read`` (CPU time of
   the server processes per read) does not depend on what else the machine runs, unlike
   throughput; ``database_cpu_ms_per_read`` is the same for the PostgreSQL processes working for
   the benchmark's database when the server runs on this machine (its connections and
   autovacuum; not the WAL writer and checkpointer, which every database of the server shares).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from itertools import cycle
from pathlib import Path
from typing import Any

import psutil
from fastapi import FastAPI
from sqlalchemy import Engine, func, make_url, select, text

from oberih.audit.models import AuditInboxRow
from oberih.auth.development import development_issuer
from oberih.auth.principals import Principal, Role
from oberih.auth.purposes import ReasonCode
from oberih.config import Environment, Settings, load_settings
from oberih.db.cpu import DatabaseCpuMeter
from oberih.db.engine import make_engine
from oberih.db.migrate import upgrade
from oberih.persons.models import PersonStateRow

HOST = "127.0.0.1"  # loopback only: the benchmark never listens beyond this machine
AUDIT_READS_ENV = "OBERIH_BENCH_AUDIT_READS"
TARGET_PERSONS = 1000
WARMUP_SECONDS = 1.0
PURPOSE = ReasonCode.data_clarification.value
# Concurrent clients: the goals are a capacity (reads per second) within a latency objective
# (p99 <= 50 ms), so the server is measured loaded, as a register with thousands of officers at
# their desks is: 32 keep-alive connections keep both workers' queues non-empty with p99 near
# 30 ms. With 8, each worker holds at most 4 requests: it idles while a batch waits for its
# commit, and the audit's share of the cost looks larger (``--connections 8`` shows it).
DEFAULT_CONNECTIONS = 32
# Rounds (each one audited and one unaudited measurement): the overhead is a median of per-round
# ratios, and on this shared machine single rounds differ by +-0.05.
DEFAULT_ROUNDS = 5


def bench_app() -> FastAPI:
    """The app as ``uvicorn --factory`` builds it in each worker of a benchmark server."""
    from oberih.api.app import create_app

    audit_reads = os.environ.get(AUDIT_READS_ENV) != "0"
    return create_app(load_settings(), audit_reads=audit_reads, serving=True)


def run_api_benchmark(
    *,
    database_url: str,
    persons: int = 10_000,
    seconds: float = 10.0,
    rounds: int = DEFAULT_ROUNDS,
    connections: int = DEFAULT_CONNECTIONS,
    workers: int = 2,
    seed: int = 1,
) -> dict[str, Any]:
    """Person reads per second and their latencies, audited and not; one dict of figures."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        load_s = _ensure_loaded(engine, persons, seed)
        targets = _targets(engine)
        events_before = _audit_events(engine)
        with ExitStack() as stack:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            settings = Settings(
                env=Environment.development, database_url=database_url, data_dir=data_dir
            )
            requests = _requests(settings, targets)
            loadavg_before = os.getloadavg()
            servers = {
                audited: stack.enter_context(_server(settings, audited=audited, workers=workers))
                for audited in (True, False)
            }
            measured = _measure(
                servers,
                requests,
                rounds,
                connections,
                seconds,
                make_url(database_url).database or "",
            )
            loadavg_after = os.getloadavg()
        audit_events = _audit_events(engine) - events_before
    finally:
        engine.dispose()
    with_audit, without = _summary(measured[True]), _summary(measured[False])
    overheads = [
        1 - (audited.completed / audited.elapsed) / (baseline.completed / baseline.elapsed)
        for audited, baseline in zip(measured[True], measured[False], strict=True)
    ]
    return {
        "engine": engine.dialect.name,
        "persons": persons,
        "load_s": load_s,
        "workers": workers,
        "connections": connections,
        "rounds": rounds,
        "seconds_per_round": seconds,
        "reads_per_s": with_audit["reads_per_s"],
        "reads_per_s_no_audit": without["reads_per_s"],
        "audit_overhead": round(statistics.median(overheads), 3),
        "audit_overhead_rounds": [round(overhead, 3) for overhead in overheads],
        "p50_ms": with_audit["p50_ms"],
        "p99_ms": with_audit["p99_ms"],
        "p50_ms_no_audit": without["p50_ms"],
        "p99_ms_no_audit": without["p99_ms"],
        "server_cpu_ms_per_read": with_audit["server_cpu_ms"],
        "server_cpu_ms_per_read_no_audit": without["server_cpu_ms"],
        "sequencer_cpu_ms_per_read": with_audit["sequencer_cpu_ms"],
        "database_cpu_ms_per_read": with_audit["database_cpu_ms"],
        "database_cpu_ms_per_read_no_audit": without["database_cpu_ms"],
        "errors": with_audit["errors"] + without["errors"],
        "audit_events_appended": audit_events,
        "cpu_count": os.cpu_count(),
        "loadavg_before": [round(value, 2) for value in loadavg_before],
        "loadavg_after": [round(value, 2) for value in loadavg_after],
    }


# --- the register ----------------------------------------------------------------------------


def _ensure_loaded(engine: Engine, persons: int, seed: int) -> float | None:
    from oberih.persons.bench_search import generated_population
    from oberih.persons.bulk import load_people

    with engine.connect() as connection:
        present = connection.execute(text("SELECT count(*) FROM person")).scalar_one()
    if present == persons:
        return None
    if present:
        raise RuntimeError(
            f"bench api needs an empty register or one of exactly {persons} persons, "
            f"found {present}"
        )
    started = time.perf_counter()
    load_people(engine, generated_population(persons, seed))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return round(time.perf_counter() - started, 1)


def _targets(engine: Engine) -> list[tuple[str, str]]:
    """(person id, office code) of persons registered at an office; ids are random UUIDs, so
    the first ones in id order are a sample from every office."""
    statement = (
        select(PersonStateRow.person_id, PersonStateRow.office_code)
        .where(PersonStateRow.office_code.is_not(None))
        .order_by(PersonStateRow.person_id)
        .limit(TARGET_PERSONS)
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    if not rows:
        raise RuntimeError("no person in the register is registered at a recruitment office")
    return [(str(person_id), str(office)) for person_id, office in rows]


def _audit_events(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(AuditInboxRow)).scalar_one())


def _requests(settings: Settings, targets: list[tuple[str, str]]) -> list[bytes]:
    """One raw HTTP/1.1 request per target, by an officer of the person's office."""
    issuer = development_issuer(settings)
    now = dt.datetime.now(dt.UTC)
    tokens = {
        office: issuer.mint(
            Principal(subject=f"bench-{office}", role=Role.tcc_officer, office_code=office),
            now=now,
        )
        for office in {office for _, office in targets}
    }
    return [
        (
            f"GET /api/v1/persons/{person_id} HTTP/1.1\r\nHost: {HOST}\r\n"
            f"Authorization: Bearer {tokens[office]}\r\nX-Purpose: {PURPOSE}\r\n\r\n"
        ).encode()
        for person_id, office in targets
    ]


# --- the servers ----------------------------------------------------------------------------------


@contextmanager
def _server(settings: Settings, *, audited: bool, workers: int) -> Iterator[Server]:
    """``workers`` uvicorn processes serving the app, each on a free loopback port."""
    environment = {
        **os.environ,
        "OBERIH_ENV": settings.env.value,
        "OBERIH_DATABASE_URL": settings.database_url,
        "OBERIH_DATA_DIR": str(settings.data_dir),
        AUDIT_READS_ENV: "1" if audited else "0",
    }
    environment["OBERIH_AUDIT_SEQUENCER"] = "false"
    with ExitStack() as stack:
        processes = [
            stack.enter_context(_uvicorn(environment, _free_port())) for _ in range(workers)
        ]
        # The baseline records no reads: a sequencer beside it would only take a share of the
        # audited server's work (both poll the one database), and its CPU with it.
        sequencer = stack.enter_context(_sequencer(environment)) if audited else None
        yield Server(processes, sequencer)


@dataclass(frozen=True, slots=True)
class Server:
    processes: list[tuple[int, subprocess.Popen[bytes]]]  # (port, process)
    sequencer: subprocess.Popen[bytes] | None  # the audited server's

    @property
    def ports(self) -> list[int]:
        return [port for port, _ in self.processes]

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the workers and the audit sequencer."""
        return sum(_cpu_seconds(process) for _, process in self.processes) + self.sequencer_cpu()

    def sequencer_cpu(self) -> float:
        return 0.0 if self.sequencer is None else _cpu_seconds(self.sequencer)


def _cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    times = psutil.Process(process.pid).cpu_times()
    return float(times.user + times.system)


@contextmanager
def _uvicorn(
    environment: dict[str, str], port: int
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    command = [
        *(sys.executable, "-m", "uvicorn", "oberih.api.bench:bench_app", "--factory"),
        *("--host", HOST, "--port", str(port), "--log-level", "warning", "--no-access-log"),
    ]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, env=environment, stdout=log, stderr=log)  # noqa: S603
        try:
            _wait_until_live(port, server, log)
            yield port, server
        finally:
            _stop(server)


@contextmanager
def _sequencer(environment: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "oberih", "audit", "sequencer"]
    with tempfile.TemporaryFile() as log:
        sequencer = subprocess.Popen(command, env=environment, stdout=log, stderr=log)  # noqa: S603
        try:
            yield sequencer
        finally:
            _stop(sequencer)
        if sequencer.returncode not in (0, -signal.SIGTERM):
            log.seek(0)
            raise RuntimeError(f"the audit sequencer failed: {log.read().decode()[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_live(port: int, server: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the benchmark server stopped: {log.read().decode()[-2000:]}")
        try:
            with socket.create_connection((HOST, port), timeout=1) as probe:
                probe.sendall(f"GET /health/live HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the benchmark server did not answer within 60 s")


# --- the load -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Round:
    completed: int
    errors: int
    elapsed: float
    latencies: list[float]
    server_cpu: float = 0.0  # seconds of CPU the server processes used in the round
    sequencer_cpu: float = 0.0  # of which the audit sequencer's
    database_cpu: float = 0.0  # the same for the database server's processes on this machine


def _measure(
    servers: dict[bool, Server],
    requests: list[bytes],
    rounds: int,
    connections: int,
    seconds: float,
    database: str,
) -> dict[bool, list[Round]]:
    measured: dict[bool, list[Round]] = {True: [], False: []}
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=spawn) as generator:
        for number in range(rounds):
            order = (True, False) if number % 2 == 0 else (False, True)
            for audited in order:
                server = servers[audited]
                cpu_before, sequencer_before = server.cpu_seconds(), server.sequencer_cpu()
                with DatabaseCpuMeter(database) as database_meter:
                    work = generator.submit(
                        generate_load, server.ports, requests, connections, seconds
                    )
                    result = work.result()
                # The warm-up is in the CPU times too: count it at the measured rate.
                share = seconds / (seconds + WARMUP_SECONDS)
                used = (server.cpu_seconds() - cpu_before) * share
                sequencer = (server.sequencer_cpu() - sequencer_before) * share
                database_cpu = database_meter.seconds * share
                measured[audited].append(
                    replace(
                        result,
                        server_cpu=used,
                        sequencer_cpu=sequencer,
                        database_cpu=database_cpu,
                    )
                )
    return measured


def generate_load(
    ports: list[int], requests: list[bytes], connections: int, seconds: float
) -> Round:
    """Keep ``connections`` connections (spread over ``ports``) busy for a warm-up and then
    ``seconds`` (run in the load-generator process)."""
    return asyncio.run(_load(ports, requests, connections, seconds))


async def _load(ports: list[int], requests: list[bytes], connections: int, seconds: float) -> Round:
    await _drive(ports, requests, connections, time.perf_counter() + WARMUP_SECONDS, [], [])
    latencies: list[float] = []
    statuses: list[int] = []
    started = time.perf_counter()
    await _drive(ports, requests, connections, started + seconds, latencies, statuses)
    elapsed = time.perf_counter() - started
    errors = sum(1 for status in statuses if status != 200)
    return Round(len(statuses), errors, elapsed, latencies)


async def _drive(
    ports: list[int],
    requests: list[bytes],
    connections: int,
    deadline: float,
    latencies: list[float],
    statuses: list[int],
) -> None:
    shares = [requests[start::connections] or requests for start in range(connections)]
    await asyncio.gather(
        *(
            _connection(ports[number % len(ports)], share, deadline, latencies, statuses)
            for number, share in enumerate(shares)
        )
    )


async def _connection(
    port: int, requests: list[bytes], deadline: float, latencies: list[float], statuses: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for request in cycle(requests):
            started = time.perf_counter()
            if started >= deadline:
                return
            writer.write(request)
            statuses.append(await _read_response(reader))
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()
        await writer.wait_closed()


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":", 1)[1])
        for line in header_lines
        if line.lower().startswith("content-length:")
    )
    await reader.readexactly(length)
    return int(status_line.split(" ", 2)[1])


def _summary(rounds: list[Round]) -> dict[str, float | int]:
    return {
        "reads_per_s": round(statistics.median(r.completed / r.elapsed for r in rounds), 1),
        "server_cpu_ms": _ms(statistics.median(r.server_cpu / r.completed for r in rounds)),
        "database_cpu_ms": _ms(statistics.median(r.database_cpu / r.completed for r in rounds)),
        "sequencer_cpu_ms": _ms(statistics.median(r.sequencer_cpu / r.completed for r in rounds)),
        "p50_ms": _ms(statistics.median(statistics.median(r.latencies) for r in rounds)),
        "p99_ms": _ms(statistics.median(_p99(r.latencies) for r in rounds)),
        "errors": sum(r.errors for r in rounds),
    }


def _p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[98]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
