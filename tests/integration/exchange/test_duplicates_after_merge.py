"""A merge answers the absorbed person's other open pairs, and its undoing takes the answer back.

With open pairs A-B and B-C, B merged into A leaves B-C a question the register can no longer
decide (it refuses to merge an absorbed person): the pair is superseded by the merge, and A-C
queued in its place, unless a pair of those two is known already.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from oberih.audit.events import as_utc
from oberih.db.engine import make_engine, make_session_factory
from oberih.exchange.dedup import find_duplicates
from oberih.exchange.duplicates import (
    DuplicateClosed,
    DuplicateNotFound,
    get_duplicate,
    merge_duplicate,
    open_duplicates,
    reject_duplicate,
)
from oberih.exchange.matching import score
from oberih.exchange.merge import merge_persons, undo_merge
from oberih.exchange.models import PersonMerge
from oberih.exchange.resolution import Resolver, stored_profile
from tests.integration.exchange.helpers import (
    NOW,
    pairs_by_name,
    register_overlapping,
    waits_for_a_lock,
)

FOUND = NOW + dt.timedelta(days=1)
LATER = NOW + dt.timedelta(days=2)


def _queued(sessions: sessionmaker[Session], names: str = "ABC") -> dict[str, uuid.UUID]:
    with sessions() as session, session.begin():
        persons = register_overlapping(session, names)
        find_duplicates(session, resolver=Resolver(), now=FOUND)
    return persons


def _merge(
    sessions: sessionmaker[Session], persons: dict[str, uuid.UUID], pair: str, survivor: str
) -> uuid.UUID:
    with sessions() as session, session.begin():
        pair_id = pairs_by_name(session, persons)[pair].id
        return merge_duplicate(
            session, pair_id=pair_id, survivor_id=persons[survivor], actor="officer-1", now=LATER
        ).id


def _undo(sessions: sessionmaker[Session], merge_id: uuid.UUID) -> None:
    with sessions() as session, session.begin():
        merge = session.get(PersonMerge, merge_id)
        assert merge is not None
        undo_merge(session, merge=merge, actor="officer-2", now=LATER + dt.timedelta(hours=1))


def _statuses(sessions: sessionmaker[Session], persons: dict[str, uuid.UUID]) -> dict[str, str]:
    with sessions() as session:
        return {name: pair.status for name, pair in pairs_by_name(session, persons).items()}


def test_a_merge_supersedes_the_absorbed_persons_pairs_and_queues_the_survivors(
    engine: Engine,
) -> None:
    sessions = make_session_factory(engine)
    persons = _queued(sessions)
    assert _statuses(sessions, persons) == {"AB": "open", "BC": "open"}
    merge_id = _merge(sessions, persons, "AB", survivor="A")
    with sessions() as session:
        pairs = pairs_by_name(session, persons)
        superseded, queued = pairs["BC"], pairs["AC"]
        assert (superseded.status, superseded.merge_id) == ("superseded", merge_id)
        assert superseded.decided_by == "officer-1" and superseded.decided_at is not None
        assert (queued.status, queued.queued_by_merge_id) == ("open", merge_id)
        assert as_utc(queued.found_at) == LATER
        # Scored as ``oberih dedup`` scores: the matcher, with the register's name frequencies.
        expected = score(
            stored_profile(session, queued.person_id),  # type: ignore[arg-type]
            stored_profile(session, queued.other_person_id),  # type: ignore[arg-type]
            Resolver().dictionary(session).frequencies(),
        )
        assert queued.score == expected.total
        assert queued.fields == {**expected.weights, "levels": expected.fields}
        assert [pair.id for pair in open_duplicates(session)] == [queued.id]
    for decide in (_merge_pair, _reject_pair):
        with sessions() as session, session.begin(), pytest.raises(DuplicateClosed) as closed:
            decide(session, superseded.id, persons["C"])
        assert closed.value.detail == (
            f"superseded by merge {merge_id}: decide the survivor's pair instead"
        )


def _merge_pair(session: Session, pair_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
    merge_duplicate(session, pair_id=pair_id, survivor_id=survivor_id, actor="o-3", now=LATER)


def _reject_pair(session: Session, pair_id: uuid.UUID, _survivor_id: uuid.UUID) -> None:
    reject_duplicate(session, pair_id=pair_id, actor="o-3", now=LATER)


def test_undoing_the_merge_reopens_what_it_superseded_and_withdraws_what_it_queued(
    engine: Engine,
) -> None:
    sessions = make_session_factory(engine)
    persons = _queued(sessions)
    merge_id = _merge(sessions, persons, "AB", survivor="A")
    with sessions() as session:
        queued_id = pairs_by_name(session, persons)["AC"].id
    _undo(sessions, merge_id)
    with sessions() as session:
        pairs = pairs_by_name(session, persons)
        assert set(pairs) == {"AB", "BC"}
        reopened = pairs["BC"]
        assert (reopened.status, reopened.decided_at, reopened.decided_by) == ("open", None, None)
        assert reopened.merge_id == merge_id  # as a confirmed pair reopened names its merge
        with pytest.raises(DuplicateNotFound):
            get_duplicate(session, queued_id)
        assert {pair.id for pair in open_duplicates(session)} == {pairs["AB"].id, reopened.id}
    # The reopened pair is decided like any other: C merged into B.
    second = _merge(sessions, persons, "BC", survivor="B")
    with sessions() as session:
        assert pairs_by_name(session, persons)["BC"].merge_id == second
        # B's pair with A stands open (B is the survivor), and no pair of C is queued for A.
        assert _statuses(sessions, persons) == {"AB": "open", "BC": "confirmed"}


def test_a_pair_the_merge_queued_and_an_officer_decided_stays_decided(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    persons = _queued(sessions)
    merge_id = _merge(sessions, persons, "AB", survivor="A")
    with sessions() as session, session.begin():
        queued = pairs_by_name(session, persons)["AC"]
        reject_duplicate(session, pair_id=queued.id, actor="officer-3", now=LATER)
    _undo(sessions, merge_id)
    assert _statuses(sessions, persons) == {"AB": "open", "BC": "open", "AC": "rejected"}


def test_no_pair_is_queued_where_the_two_have_one(engine: Engine) -> None:
    # D is C recorded again: dedup pairs B-C, B-D and C-D. B merged into C supersedes B-D,
    # and C-D is the pair of the survivor and D already.
    sessions = make_session_factory(engine)
    persons = _queued(sessions, "ABCD")
    assert _statuses(sessions, persons) == {"AB": "open", "BC": "open", "BD": "open", "CD": "open"}
    merge_id = _merge(sessions, persons, "BC", survivor="C")
    with sessions() as session:
        pairs = pairs_by_name(session, persons)
        assert pairs["CD"].queued_by_merge_id is None and pairs["CD"].status == "open"
        assert (pairs["BD"].status, pairs["BD"].merge_id) == ("superseded", merge_id)
        assert pairs["AC"].queued_by_merge_id == merge_id  # in place of A-B
    _undo(sessions, merge_id)
    assert _statuses(sessions, persons) == {"AB": "open", "BC": "open", "BD": "open", "CD": "open"}


def test_merges_undone_in_any_order_leave_the_queue_as_before_them(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    persons = _queued(sessions, "ABCD")
    before = _statuses(sessions, persons)
    first = _merge(sessions, persons, "AB", survivor="A")  # queues A-C and A-D
    second = _merge(sessions, persons, "CD", survivor="C")  # supersedes A-D (A-C is known)
    assert _statuses(sessions, persons) == {
        "AB": "confirmed", "BC": "superseded", "BD": "superseded", "CD": "confirmed",
        "AC": "open", "AD": "superseded",
    }  # fmt: skip
    with sessions() as session:
        assert [pair.merge_id for pair in open_duplicates(session)] == [None]  # A-C alone
    _undo(sessions, first)
    # A-C and A-D go with the first merge; B-D, reopened, finds D absorbed into C by the
    # second: superseded by it, and B-C (B's pair with its survivor) is open already.
    with sessions() as session:
        pairs = pairs_by_name(session, persons)
        assert {name: pair.status for name, pair in pairs.items()} == {
            "AB": "open", "BC": "open", "BD": "superseded", "CD": "confirmed",
        }  # fmt: skip
        assert pairs["BD"].merge_id == second
    _undo(sessions, second)
    assert _statuses(sessions, persons) == before
    # And in the other order: the second merge undone first.
    first = _merge(sessions, persons, "AB", survivor="A")
    second = _merge(sessions, persons, "CD", survivor="C")
    _undo(sessions, second)
    assert _statuses(sessions, persons) == {
        "AB": "confirmed", "BC": "superseded", "BD": "superseded", "CD": "open",
        "AC": "open", "AD": "open",
    }  # fmt: skip
    _undo(sessions, first)
    assert _statuses(sessions, persons) == before


def test_a_pair_two_merges_put_in_place_stays_while_either_is_in_force(engine: Engine) -> None:
    # E is B recorded again: dedup pairs A-B, B-C, A-E, B-E and C-E. B merged into A puts A-C
    # in place of B-C; E merged into C supersedes A-E, whose place A-C holds already.
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        persons = register_overlapping(session)
        persons["E"] = register_overlapping(session, "B")["B"]
        find_duplicates(session, resolver=Resolver(), now=FOUND)
    before = _statuses(sessions, persons)
    assert set(before) == {"AB", "BC", "AE", "BE", "CE"}
    first = _merge(sessions, persons, "AB", survivor="A")
    second = _merge(sessions, persons, "CE", survivor="C")
    with sessions() as session:
        pairs = pairs_by_name(session, persons)
        assert (pairs["AC"].status, pairs["AC"].queued_by_merge_id) == ("open", first)
        assert (pairs["AE"].status, pairs["AE"].merge_id) == ("superseded", second)
    _undo(sessions, first)
    with sessions() as session:
        pairs = pairs_by_name(session, persons)
        # A-C asks whether A is E (absorbed into C): it stays, as the second merge's.
        assert (pairs["AC"].status, pairs["AC"].queued_by_merge_id) == ("open", second)
        assert {name: pair.status for name, pair in pairs.items()} == {
            "AB": "open", "BC": "open", "BE": "superseded", "CE": "confirmed",
            "AE": "superseded", "AC": "open",
        }  # fmt: skip
    _undo(sessions, second)
    assert _statuses(sessions, persons) == before


def test_a_merge_outside_the_queue_supersedes_the_pairs_too(engine: Engine) -> None:
    # ``oberih exchange merge`` of two persons no pair names.
    sessions = make_session_factory(engine)
    persons = _queued(sessions)
    with sessions() as session, session.begin():
        merge_id = merge_persons(
            session, survivor_id=persons["C"], absorbed_id=persons["A"], actor="o-1", now=LATER
        ).id
    with sessions() as session:
        pairs = pairs_by_name(session, persons)
        assert (pairs["AB"].status, pairs["AB"].merge_id) == ("superseded", merge_id)
        # C's pair with B was known: nothing queued in place of A-B.
        assert set(pairs) == {"AB", "BC"} and pairs["BC"].status == "open"


def test_dedup_leaves_out_a_person_absorbed(engine: Engine) -> None:
    # B recorded a third time after B was merged into A: paired with A and C, not with B.
    sessions = make_session_factory(engine)
    persons = _queued(sessions)
    merge_id = _merge(sessions, persons, "AB", survivor="A")
    with sessions() as session, session.begin():
        persons["E"] = register_overlapping(session, "B")["B"]
        find_duplicates(session, resolver=Resolver(), now=LATER)
    assert _statuses(sessions, persons) == {
        "AB": "confirmed", "BC": "superseded", "AC": "open", "AE": "open", "CE": "open",
    }  # fmt: skip
    _undo(sessions, merge_id)  # B is a person of his own again, and found with E
    with sessions() as session, session.begin():
        find_duplicates(session, resolver=Resolver(), now=LATER + dt.timedelta(days=1))
    assert _statuses(sessions, persons) == {
        "AB": "open", "BC": "open", "AE": "open", "CE": "open", "BE": "open",
    }  # fmt: skip


@pytest.mark.postgres
def test_two_merges_putting_one_pair_in_place_at_once_queue_it_once(
    postgres_database_url: str,
) -> None:
    # B into A puts A-C in place of B-C while F into C puts C-A in place of A-F: no pair is
    # locked by both, and the second insert of the pair waits for the first merge's end.
    engine = make_engine(postgres_database_url)
    try:
        sessions = make_session_factory(engine)
        persons = _queued(sessions, "ABCF")
        assert set(_statuses(sessions, persons)) == {"AB", "BC", "AF", "CF"}
        second: list[uuid.UUID | Exception] = []

        def merge_f_into_c() -> None:
            try:
                second.append(_merge(sessions, persons, "CF", survivor="C"))
            except Exception as exc:  # the test says what it was
                second.append(exc)

        other = threading.Thread(target=merge_f_into_c)
        try:
            with sessions() as session, session.begin():
                pair_id = pairs_by_name(session, persons)["AB"].id
                first = merge_duplicate(
                    session, pair_id=pair_id, survivor_id=persons["A"], actor="o-1", now=LATER
                ).id
                other.start()
                assert waits_for_a_lock(engine)
        finally:
            other.join(timeout=30)
        assert len(second) == 1 and isinstance(second[0], uuid.UUID), second
        with sessions() as session:
            pairs = pairs_by_name(session, persons)
            assert (pairs["AC"].status, pairs["AC"].queued_by_merge_id) == ("open", first)
            assert (pairs["AF"].status, pairs["AF"].merge_id) == ("superseded", second[0])
    finally:
        engine.dispose()
