"""The change feed: events in commit order with a resumable cursor, none for a rollback,
and only within the caller's area."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from oberih.auth.jurisdiction import Scope
from oberih.changes.services import InvalidCursor, changes_after
from oberih.db.engine import make_session_factory
from oberih.persons.facts import FactKind
from oberih.persons.services import append_facts
from tests.factories import new_fact
from tests.integration.exchange.helpers import NOW, register_person

NATIONWIDE = Scope.nationwide()


def test_changes_follow_commits_and_resume_from_a_cursor(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
    with sessions() as session:
        changes, cursor = changes_after(session, cursor=None, scope=NATIONWIDE)
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
    with sessions() as session:
        changes, _next = changes_after(session, cursor=cursor, scope=NATIONWIDE)
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
