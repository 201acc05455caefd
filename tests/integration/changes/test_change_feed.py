"""The change feed: events in commit order with a resumable cursor, none for a rollback,
and only within the caller's area."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from oberih.auth.jurisdiction import Scope
from oberih.changes.services import Change, InvalidCursor, changes_after
from oberih.db.engine import make_session_factory
from oberih.persons.facts import FactKind
from oberih.persons.services import append_facts
from tests.factories import new_fact
from tests.integration.exchange.helpers import NOW, register_person

NATIONWIDE = Scope.nationwide()
SETTLE_SECONDS = 30.0


def _settled(
    sessions: sessionmaker[Session], cursor: str | None, count: int
) -> tuple[list[Change], str | None]:
    """The changes after ``cursor`` once at least ``count`` are readable. On PostgreSQL events
    are handed out only when every older transaction on the server has ended (the reader's
    ordering rule), and other tests' transactions run beside this one."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        with sessions() as session:
            changes, next_cursor = changes_after(session, cursor=cursor, scope=NATIONWIDE)
        if len(changes) >= count or time.monotonic() > deadline:
            return changes, next_cursor
        time.sleep(0.05)


def test_changes_follow_commits_and_resume_from_a_cursor(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
    changes, cursor = _settled(sessions, None, 2)
    assert [c.kind for c in changes] == ["identity", "identifier"]
    assert {c.person_id for c in changes} == {person_id}
    with pytest.raises(RuntimeError), sessions() as session, session.begin():
        death = new_fact(FactKind.death, {"date_of_death": "2026-10-20"}, source="civil_status")
        append_facts(session, person_id=person_id, facts=[death], now=NOW)
        raise RuntimeError("rolled back")
    with sessions() as session:
        assert changes_after(session, cursor=cursor, scope=NATIONWIDE)[0] == []
    with sessions() as session, session.begin():
        death = new_fact(FactKind.death, {"date_of_death": "2026-10-20"}, source="civil_status")
        append_facts(session, person_id=person_id, facts=[death], now=NOW)
    # Exactly the committed death: the rolled-back one left no event.
    changes, _next = _settled(sessions, cursor, 1)
    assert [c.kind for c in changes] == ["death"]


def test_a_caller_sees_only_their_area(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        register_person(session)
    nobody = Scope.nobody()
    with sessions() as session:
        assert changes_after(session, cursor=None, scope=nobody)[0] == []
        with pytest.raises(InvalidCursor):
            changes_after(session, cursor="x", scope=NATIONWIDE)
