"""Merging a person recorded twice keeps every fact; undoing the merge restores both."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from oberih.db.engine import make_session_factory
from oberih.exchange.merge import MergeNotAllowed, merge_persons, undo_merge
from oberih.exchange.models import PersonMerge
from oberih.identifiers import make_unzr
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person, find_person_by_identifier, get_state, load_facts
from tests.factories import new_fact
from tests.integration.exchange.helpers import BIRTH, NOW, RNOKPP, register_person

UNZR = make_unzr(BIRTH, 77)


def test_merge_and_undo_keep_every_fact(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        survivor = register_person(session)
        identity = {
            "surname": "Ґудзь",
            "given_name": "Тарас",
            "birth_date": "1990-03-15",
            "sex": "male",
        }
        absorbed = create_person(
            session,
            facts=[
                new_fact(FactKind.identity, identity, source="civil_status"),
                new_fact(FactKind.identifier, {"identifier_kind": "unzr", "value": UNZR}),
                new_fact(FactKind.death, {"date_of_death": "2026-10-20"}, source="civil_status"),
            ],
            now=NOW,
        ).person_id
    later = NOW + dt.timedelta(days=1)
    with sessions() as session, session.begin():
        merge = merge_persons(
            session, survivor_id=survivor, absorbed_id=absorbed, actor="officer-1", now=later
        )
        merge_id = merge.id
    with sessions() as session:
        state = get_state(session, survivor)
        assert state.date_of_death == dt.date(2026, 10, 20)
        assert find_person_by_identifier(session, "unzr", UNZR) == survivor
        assert find_person_by_identifier(session, "rnokpp", RNOKPP) == survivor
        assert get_state(session, survivor).identity_field("given_name") == "Тарас"
        absorbed_facts = len(load_facts(session, absorbed))
    with sessions() as session, session.begin():
        stored = session.get(PersonMerge, merge_id)
        assert stored is not None
        undo_merge(session, merge=stored, actor="officer-1", now=later + dt.timedelta(days=1))
        with pytest.raises(MergeNotAllowed):
            undo_merge(session, merge=stored, actor="officer-1", now=later)
    with sessions() as session:
        assert get_state(session, survivor).date_of_death is None
        assert find_person_by_identifier(session, "unzr", UNZR) == absorbed
        assert get_state(session, absorbed).date_of_death == dt.date(2026, 10, 20)
        assert len(load_facts(session, absorbed)) > absorbed_facts  # nothing removed, only added
        # Register time keeps the merged past: as known before the undo, the survivor was dead.
        merged_view = get_state(session, survivor, known_at=later + dt.timedelta(hours=1))
        assert merged_view.date_of_death == dt.date(2026, 10, 20)
