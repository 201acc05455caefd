"""Test fixtures: a fresh, migrated database per test on each engine.

Every storage test runs on SQLite and on PostgreSQL. Migrations run once per worker into a
template (a file for SQLite, a template database for PostgreSQL); each test gets a copy, so tests
may commit freely and never share state. Without a reachable PostgreSQL the PostgreSQL half is
skipped and says so, except in CI (``CI=true``) where it fails loudly.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from oberih.db.engine import make_engine, make_session_factory
from oberih.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
POSTGRES_ADMIN_URL = os.environ.get(
    "OBERIH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"{problem} (CI=true: the PostgreSQL half must run)", pytrace=False)
    pytest.skip(f"{problem}: skipping the PostgreSQL half of the suite")


def _worker() -> str:
    # The process id keeps separate pytest runs on one server from dropping each other's template.
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


def _admin_execute(statement: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


def _database_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres_template(postgres_available: None) -> Iterator[str]:
    name = f"oberih_template_{_worker()}"
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(_database_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated database of the parametrised engine."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "oberih.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    yield from _fresh_postgres_database(request.getfixturevalue("postgres_template"))


@pytest.fixture
def other_database_url(
    database_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A second fresh, migrated database on the engine of ``database_url`` (two runs compared)."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "other.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    yield from _fresh_postgres_database(request.getfixturevalue("postgres_template"))


@pytest.fixture
def postgres_database_url(postgres_template: str) -> Iterator[str]:
    """URL of a fresh, migrated PostgreSQL database (for PostgreSQL-only behaviour)."""
    yield from _fresh_postgres_database(postgres_template)


def _fresh_postgres_database(template_name: str) -> Iterator[str]:
    name = f"oberih_test_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    yield _database_url(name)
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    factory = make_session_factory(engine)
    with factory() as session:
        yield session
