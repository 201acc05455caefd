"""An officer's review of the pairs ``oberih dedup`` queued: merge, reject, and a merge undone."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from oberih.db.engine import make_engine, make_session_factory
from oberih.exchange.dedup import find_duplicates
from oberih.exchange.duplicates import (
    DuplicateClosed,
    DuplicateNotFound,
    NotOfThePair,
    duplicate_key,
    get_duplicate,
    merge_duplicate,
    open_duplicates,
    reject_duplicate,
    side_by_side,
)
from oberih.exchange.merge import MergeNotAllowed, merge_persons, undo_merge
from oberih.exchange.models import PersonMerge
from oberih.exchange.resolution import Resolver
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person, find_person_by_identifier, get_state
from tests.factories import identity_payload, new_fact
from tests.integration.exchange.helpers import (
    IDENTITY,
    NOW,
    RNOKPP,
    TWICE_UNZR,
    left_open,
    register_twice,
    waits_for_a_lock,
)

FOUND = NOW + dt.timedelta(days=1)
LATER = NOW + dt.timedelta(days=2)


def _queued(sessions: sessionmaker[Session]) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A person registered twice, found by ``oberih dedup``: the pair's id and its persons."""
    with sessions() as session, session.begin():
        first, second = register_twice(session)
        find_duplicates(session, resolver=Resolver(), now=FOUND)
    with sessions() as session:
        [pair] = open_duplicates(session)
        assert {pair.person_id, pair.other_person_id} == {first, second}
        return pair.id, first, second


def test_a_pair_merged_moves_the_facts_and_is_confirmed(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    pair_id, survivor, absorbed = _queued(sessions)
    with sessions() as session:
        shown = side_by_side(session, get_duplicate(session, pair_id))
        assert shown.person is not None and shown.other is not None
        assert shown.person.surname == shown.other.surname == "Ґудзь"
        assert shown.levels["surname"] and set(shown.weights) == set(shown.levels)
        assert sum(shown.weights.values()) == pytest.approx(shown.pair.score, abs=0.01)
    with sessions() as session, session.begin():
        merge = merge_duplicate(
            session, pair_id=pair_id, survivor_id=survivor, actor="officer-1", now=LATER
        )
        merge_id = merge.id
    with sessions() as session:
        assert find_person_by_identifier(session, "unzr", TWICE_UNZR) == survivor
        assert find_person_by_identifier(session, "rnokpp", RNOKPP) == survivor
        assert get_state(session, survivor).date_of_death == dt.date(2026, 10, 20)
        pair = get_duplicate(session, pair_id)
        assert (pair.status, pair.decided_by, pair.merge_id) == ("confirmed", "officer-1", merge_id)
        assert pair.decided_at is not None and pair.decided_at.date() == LATER.date()
        assert open_duplicates(session) == []
        stored = session.get(PersonMerge, merge_id)
        assert stored is not None and stored.absorbed_id == absorbed


def test_a_pair_rejected_is_closed_and_not_queued_again(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    pair_id, first, second = _queued(sessions)
    with sessions() as session, session.begin():
        reject_duplicate(session, pair_id=pair_id, actor="officer-1", now=LATER)
    with sessions() as session, session.begin():
        report = find_duplicates(session, resolver=Resolver(), now=LATER)
        assert report.queued == 0
    with sessions() as session:
        pair = get_duplicate(session, pair_id)
        assert (pair.status, pair.decided_by, pair.merge_id) == ("rejected", "officer-1", None)
        assert open_duplicates(session) == []
        # Nothing moved: each keeps his own identifiers.
        assert find_person_by_identifier(session, "unzr", TWICE_UNZR) == second
        assert find_person_by_identifier(session, "rnokpp", RNOKPP) == first


@pytest.mark.parametrize("first_decision", ["merge", "reject"])
@pytest.mark.parametrize("second_decision", ["merge", "reject"])
def test_a_decided_pair_is_not_decided_again(
    engine: Engine, first_decision: str, second_decision: str
) -> None:
    sessions = make_session_factory(engine)
    pair_id, survivor, _ = _queued(sessions)

    def decide(session: Session, decision: str) -> None:
        if decision == "merge":
            merge_duplicate(
                session, pair_id=pair_id, survivor_id=survivor, actor="officer-1", now=LATER
            )
        else:
            reject_duplicate(session, pair_id=pair_id, actor="officer-2", now=LATER)

    with sessions() as session, session.begin():
        decide(session, first_decision)
    with sessions() as session, session.begin(), pytest.raises(DuplicateClosed):
        decide(session, second_decision)


def test_the_survivor_is_one_of_the_pair(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    pair_id, _, _ = _queued(sessions)
    with sessions() as session, session.begin():
        stranger = create_person(
            session, facts=[new_fact(FactKind.identity, identity_payload(surname="Інший"))], now=NOW
        ).person_id
    with sessions() as session, session.begin(), pytest.raises(NotOfThePair) as refused:
        merge_duplicate(session, pair_id=pair_id, survivor_id=stranger, actor="o-1", now=LATER)
    assert str(refused.value) == f"person {stranger} is not one of this pair"
    with sessions() as session:
        assert get_duplicate(session, pair_id).status == "open"


def test_an_unknown_pair_is_not_found(engine: Engine) -> None:
    with make_session_factory(engine)() as session, pytest.raises(DuplicateNotFound):
        reject_duplicate(session, pair_id=uuid.uuid4(), actor="officer-1", now=LATER)


def test_a_merge_undone_reopens_its_pair(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    pair_id, first, second = _queued(sessions)
    with sessions() as session, session.begin():
        merge_id = merge_duplicate(
            session, pair_id=pair_id, survivor_id=second, actor="officer-1", now=LATER
        ).id
    with sessions() as session, session.begin():
        merge = session.get(PersonMerge, merge_id)
        assert merge is not None
        undo_merge(session, merge=merge, actor="officer-2", now=LATER + dt.timedelta(hours=1))
    with sessions() as session:
        [pair] = open_duplicates(session)
        assert (pair.id, pair.decided_at, pair.decided_by) == (pair_id, None, None)
        shown = side_by_side(session, pair)
        # The undone merge is still named, with who merged and who undid it.
        assert shown.merge is not None and shown.merge.id == merge_id
        assert (shown.merge.merged_by, shown.merge.undone_by) == ("officer-1", "officer-2")
    with sessions() as session, session.begin():  # the wrong survivor: merged the other way
        merge_duplicate(session, pair_id=pair_id, survivor_id=first, actor="officer-2", now=LATER)
    with sessions() as session:
        assert find_person_by_identifier(session, "unzr", TWICE_UNZR) == first
        assert get_duplicate(session, pair_id).status == "confirmed"


def test_a_merge_made_outside_the_queue_confirms_the_open_pair(engine: Engine) -> None:
    # ``oberih exchange merge`` of the two: left open, the pair would offer a merge the
    # register now refuses (the absorbed person is absorbed).
    sessions = make_session_factory(engine)
    pair_id, first, second = _queued(sessions)
    with sessions() as session, session.begin():
        merge_id = merge_persons(
            session, survivor_id=second, absorbed_id=first, actor="officer-1", now=LATER
        ).id
    with sessions() as session:
        pair = get_duplicate(session, pair_id)
        assert (pair.status, pair.merge_id) == ("confirmed", merge_id)


def test_a_merge_the_register_refuses_leaves_the_pair_open(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    pair_id, first, second = _queued(sessions)
    with sessions() as session, session.begin():
        third = create_person(
            session,
            facts=[new_fact(FactKind.identity, identity_payload(surname="Третій"))],
            now=NOW,
        ).person_id
        merge_persons(session, survivor_id=third, absorbed_id=first, actor="officer-1", now=LATER)
        left_open(session, pair_id)
    with sessions() as session, session.begin(), pytest.raises(MergeNotAllowed):
        merge_duplicate(session, pair_id=pair_id, survivor_id=second, actor="o-1", now=LATER)
    with sessions() as session:
        assert get_duplicate(session, pair_id).status == "open"


def test_open_pairs_are_read_page_by_page_to_their_end(engine: Engine) -> None:
    # Four records of one man: six pairs, all found at the same moment (the id breaks ties).
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        register_twice(session)
        for _ in range(2):
            create_person(
                session,
                facts=[new_fact(FactKind.identity, IDENTITY, source="civil_status")],
                now=NOW,
            )
        find_duplicates(session, resolver=Resolver(), now=FOUND)
    seen: list[uuid.UUID] = []
    with sessions() as session:
        after = None
        while page := open_duplicates(session, limit=4, after=after):
            seen += [pair.id for pair in page]
            after = duplicate_key(page[-1])
        assert len(seen) == len(set(seen)) == 6
        assert seen == [pair.id for pair in open_duplicates(session, limit=100)]


@pytest.mark.postgres
def test_of_two_officers_deciding_one_pair_the_second_waits_then_is_refused(
    postgres_database_url: str,
) -> None:
    engine = make_engine(postgres_database_url)
    try:
        sessions = make_session_factory(engine)
        pair_id, survivor, _ = _queued(sessions)
        refused: list[Exception] = []

        def reject() -> None:
            try:
                with sessions() as session, session.begin():
                    reject_duplicate(session, pair_id=pair_id, actor="officer-2", now=LATER)
            except DuplicateClosed as exc:
                refused.append(exc)

        second = threading.Thread(target=reject)
        try:
            with sessions() as session, session.begin():
                merge_duplicate(
                    session, pair_id=pair_id, survivor_id=survivor, actor="officer-1", now=LATER
                )
                second.start()
                assert waits_for_a_lock(engine)  # the pair is locked, not read as open
        finally:
            second.join(timeout=30)
        assert not second.is_alive() and len(refused) == 1
        with sessions() as session:
            assert get_duplicate(session, pair_id).status == "confirmed"
    finally:
        engine.dispose()
