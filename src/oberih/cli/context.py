"""Composition root of CLI commands: settings, engine and session built in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from oberih.config import load_settings
from oberih.db.engine import make_engine, make_session_factory

console = Console()
err_console = Console(stderr=True)


def database_url(override: str | None) -> str:
    return override or load_settings().database_url


@contextmanager
def open_engine(url: str | None = None) -> Iterator[Engine]:
    engine = make_engine(database_url(url))
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back otherwise."""
    with make_session_factory(engine)() as session, session.begin():
        yield session
