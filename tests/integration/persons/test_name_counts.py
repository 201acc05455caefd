"""The name dictionary's counts when two transactions register the same surname at once
(PostgreSQL, real concurrent transactions): each one counts, none fails."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select, text

from oberih.db.engine import make_engine, make_session_factory
from oberih.persons.facts import FactKind
from oberih.persons.models import NameKeyRow
from oberih.persons.projection import name_dictionary_entries
from oberih.persons.services import create_person
from tests.factories import new_fact

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
SURNAME = "Вірченко"
WAITING_ON_A_LOCK = "wait_event_type = 'Lock'"


@pytest.fixture
def engine(postgres_database_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_database_url)
    yield engine
    engine.dispose()


def _surname_count(engine: Engine) -> int | None:
    ((part, key, _latin),) = [
        entry
        for entry in name_dictionary_entries(
            {"surname": SURNAME, "given_name": None, "patronymic": None}
        )
        if entry[0] == "surname"
    ]
    with engine.connect() as connection:
        return connection.scalar(
            select(NameKeyRow.frequency).where(NameKeyRow.part == part, NameKeyRow.key == key)
        )


def _register(
    engine: Engine,
    given_name: str,
    *,
    written: threading.Event | None = None,
    commit: threading.Event | None = None,
) -> None:
    identity = {
        "surname": SURNAME,
        "given_name": given_name,
        "birth_date": "2001-03-04",
        "sex": "male",
    }
    with make_session_factory(engine)() as session, session.begin():
        create_person(session, facts=[new_fact(FactKind.identity, identity)], now=NOW)
        if written is not None:
            written.set()
        if commit is not None:
            assert commit.wait(timeout=30)


def _some_session(engine: Engine, condition: str) -> bool:
    """Whether a session of this database is in ``condition`` (a ``pg_stat_activity`` test)."""
    with engine.connect() as connection:
        found = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                f"WHERE datname = current_database() AND {condition}"
            )
        )
    return bool(found)


def _until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("already_known", [False, True])
def test_two_registrations_of_one_surname_at_once_both_count(
    engine: Engine, already_known: bool
) -> None:
    if already_known:
        _register(engine, "Остап")
    before = _surname_count(engine) or 0
    first_has_written = threading.Event()
    first_may_commit = threading.Event()
    errors: list[BaseException] = []

    def run(
        given_name: str, written: threading.Event | None, commit: threading.Event | None
    ) -> None:
        try:
            _register(engine, given_name, written=written, commit=commit)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    first = threading.Thread(target=run, args=("Тарас", first_has_written, first_may_commit))
    first.start()
    # The first has written all its rows and not committed (an "idle in transaction" probe
    # would fire between its statements, before the name row); the second then waits on it.
    written = first_has_written.wait(timeout=30)
    second = threading.Thread(target=run, args=("Богдан", None, None))
    second.start()
    waited = _until(lambda: _some_session(engine, WAITING_ON_A_LOCK))
    first_may_commit.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert (written, waited) == (True, True)
    assert errors == []
    assert _surname_count(engine) == before + 2
