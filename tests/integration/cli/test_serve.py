"""``oberih serve --workers 2`` as an operator runs it: real processes, real HTTP, the audit
sequencer as a process of its own beside the workers, and all of them stopped together."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psutil
from sqlalchemy import Engine, func, select

from oberih.audit.models import AuditEventRow
from oberih.auth.development import development_issuer
from oberih.auth.principals import Principal, Role
from oberih.config import Settings
from oberih.db.engine import make_engine, make_session_factory
from oberih.db.migrate import upgrade
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person
from tests.factories import identity_payload, new_fact

OFFICE = "TCC-UA80-01"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _register_with_one_person(engine: Engine) -> uuid.UUID:
    upgrade(engine)
    with make_session_factory(engine)() as session:
        person_id = create_person(
            session,
            facts=[
                new_fact(FactKind.identity, identity_payload(surname="Коваль"), source="registry"),
                new_fact(
                    FactKind.military_registration,
                    {"category": "liable", "office_code": OFFICE, "rank": "солдат"},
                    source="register",
                    valid_from=dt.date(2015, 3, 15),
                ),
            ],
            now=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
        ).person_id
        session.commit()
    return person_id


def _events(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(AuditEventRow)) or 0)


def test_serve_with_two_workers_sequences_reads_in_its_own_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/oberih.db"
    engine = make_engine(url)
    person_id = _register_with_one_person(engine)
    settings = Settings(env="development", database_url=url, data_dir=tmp_path / "data")
    officer = Principal(subject="officer-1", role=Role.tcc_officer, office_code=OFFICE)
    token = development_issuer(settings).mint(officer, now=dt.datetime.now(dt.UTC))
    port = _free_port()
    environment = {
        **os.environ,
        "OBERIH_ENV": "development",
        "OBERIH_DATABASE_URL": url,
        "OBERIH_DATA_DIR": str(tmp_path / "data"),
    }
    command = [sys.executable, "-m", "oberih", "serve", "--workers", "2", "--port", str(port)]
    server = subprocess.Popen(command, env=environment)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_live(base, server)
        children = psutil.Process(server.pid).children(recursive=True)
        sequencers = [c for c in children if "sequencer" in " ".join(c.cmdline())]
        assert len(sequencers) == 1
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "CASE-2026-000123"}
        for _ in range(4):
            read = httpx.get(f"{base}/api/v1/persons/{person_id}", headers=headers, timeout=10)
            assert read.status_code == 200
        # The workers leave the inbox to the sequencer process, which makes the reads leaves.
        deadline = time.monotonic() + 20
        while _events(engine) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _events(engine) == 4
        # A sequencer that dies is started again, and goes on sequencing.
        sequencers[0].kill()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _sequencers(server, besides=sequencers[0]):
            time.sleep(0.2)
        assert len(_sequencers(server, besides=sequencers[0])) == 1
        read = httpx.get(f"{base}/api/v1/persons/{person_id}", headers=headers, timeout=10)
        assert read.status_code == 200
        deadline = time.monotonic() + 20
        while _events(engine) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _events(engine) == 5
        children = psutil.Process(server.pid).children(recursive=True)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    # Nothing is left behind (workers, sequencer, multiprocessing's helpers).
    deadline = time.monotonic() + 10
    while any(_alive(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [child.cmdline() for child in children if _alive(child)] == []
    engine.dispose()


def _sequencers(server: subprocess.Popen[bytes], *, besides: psutil.Process) -> list[int]:
    found = []
    for child in psutil.Process(server.pid).children(recursive=True):
        try:
            if (
                child.pid != besides.pid
                and _alive(child)
                and "sequencer" in " ".join(child.cmdline())
            ):
                found.append(child.pid)
        except psutil.Error:  # it ended meanwhile
            continue
    return found


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_until_live(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "oberih serve stopped"
        try:
            if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("oberih serve did not answer within 60 s")


def test_serve_refuses_to_start_with_a_key_ring_it_cannot_use(tmp_path: Path) -> None:
    # Found at the start, in one line, not by each source register's batches being refused.
    keys_file = tmp_path / "keys.json"
    keys_file.write_text('{"keys": 1}')
    environment = {
        **os.environ,
        "OBERIH_ENV": "development",
        "OBERIH_EXCHANGE_KEYS_FILE": str(keys_file),
    }
    finished = subprocess.run(
        [sys.executable, "-m", "oberih", "serve", "--port", str(_free_port()),
         "--database-url", f"sqlite:///{tmp_path / 'oberih.db'}"],
        capture_output=True, text=True, env=environment, timeout=60, check=False,
    )  # fmt: skip
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [
        f'refusing to start: key ring {keys_file}: expected {{"keys": [...]}}'
    ]
