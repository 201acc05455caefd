"""Engine construction: URL normalisation and per-engine connection settings."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

# Connections a process keeps open. A request holds one while its transaction lasts; the audit
# sequencer and the group commit of reads each take one more. Above ``POOL_SIZE`` a connection is
# opened for the request and closed after it (``POOL_OVERFLOW``), which costs a connection
# set-up per request: under the benchmark's 8 concurrent requests that was 5% of a server's CPU
# with SQLAlchemy's default of 5. A service process has two pools (the threads' and the event
# loop's): at most 40 connections, so two processes stay within PostgreSQL's default 100.
POOL_SIZE = 10
POOL_OVERFLOW = 10


def normalise_url(url: str) -> str:
    """Pick the driver for a plain URL: ``postgresql://`` means psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    # orjson reads the JSON documents (payloads, states) about three times faster than the
    # standard library; intake reads every touched person's journal.
    parsed = make_url(normalise_url(url))
    pooled = (
        {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
        if parsed.get_backend_name() == "postgresql"
        else {}
    )
    engine = create_engine(parsed, echo=echo, future=True, json_deserializer=orjson.loads, **pooled)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_async_engine(engine: Engine) -> AsyncEngine | None:
    """An asyncio engine on the same PostgreSQL database, for the requests answered on the event
    loop without a worker thread (the read of a person's record and the group commit of read
    audit events); ``None`` on SQLite, whose driver has no asyncio form (those requests then take
    the worker-thread path).

    Its connections are in autocommit: the statements sent through it are single reads, and
    single INSERTs that must be durable when they return, so each is its own transaction in one
    round trip (no BEGIN and COMMIT trips). Its connections belong to the event loop that opens
    them: create it on the serving loop and dispose of it there.
    """
    if not is_postgres(engine):
        return None
    return create_async_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        json_deserializer=orjson.loads,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets readers go on while a writer appends; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
