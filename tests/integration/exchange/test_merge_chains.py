"""Merges in a chain (A into S, then S into K) and side by side (A and K into S), undone in
every order the register allows: each person ends as they were before either merge."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from oberih.db.engine import make_session_factory
from oberih.exchange.merge import MergeNotAllowed, merge_persons, undo_merge
from oberih.exchange.models import PersonMerge
from oberih.identifiers import make_rnokpp, make_unzr
from oberih.identifiers.documents import make_document_number
from oberih.persons.facts import FactKind
from oberih.persons.models import IdentifierRow
from oberih.persons.projection import projection_row
from oberih.persons.services import (
    create_person,
    find_person_by_identifier,
    get_projection,
    get_state,
    projection_as_row,
)
from oberih.rules.services import latest_determination, refresh_person
from tests.factories import address_payload, new_fact
from tests.integration.exchange.helpers import BIRTH, NOW

Sessions = sessionmaker[Session]
# Three records of one man, merged two at a time.
NAMES = ("A", "S", "K")


def _register(session: Session, serial: int, *, dead: bool) -> uuid.UUID:
    identity = {
        "surname": "Ґудзь",
        "given_name": "Тарас",
        "birth_date": BIRTH.isoformat(),
        "sex": "male",
    }
    facts = [
        new_fact(FactKind.identity, identity, source="civil_status"),
        new_fact(
            FactKind.identifier,
            {"identifier_kind": "rnokpp", "value": make_rnokpp(BIRTH, serial, "male")},
            source="tax",
        ),
        new_fact(
            FactKind.identifier,
            {"identifier_kind": "unzr", "value": make_unzr(BIRTH, serial)},
            valid_from=dt.date(2004, 3, 15),  # dated by its source, as feeds date them
        ),
        new_fact(
            FactKind.identifier,
            {"identifier_kind": "id_card", "value": make_document_number("id_card", serial)},
            valid_from=NOW.date() + dt.timedelta(days=30),  # dated ahead by its source
        ),
        new_fact(
            FactKind.military_registration,
            {"category": "conscript", "office_code": f"UA8000{serial}"},
            source="tcc",
        ),
        new_fact(FactKind.address, address_payload(f"Місто {serial}", f"UA{10 + serial}")),
    ]
    if dead:
        facts.append(
            new_fact(FactKind.death, {"date_of_death": "2026-10-20"}, source="civil_status")
        )
    return create_person(session, facts=facts, now=NOW).person_id


def _picture(session: Session, person_id: uuid.UUID) -> dict[str, Any]:
    """What the register holds of a person, less the journal's length (which only grows)."""
    state = get_state(session, person_id)
    stored = projection_as_row(get_projection(session, person_id))
    assert stored == projection_row(state)  # the projection is the fold of the journal
    determination = latest_determination(session, person_id)
    assert determination is not None
    identifiers = session.execute(
        select(IdentifierRow.kind, IdentifierRow.value, IdentifierRow.active).where(
            IdentifierRow.person_id == person_id
        )
    ).all()
    return {
        "state": {
            key: value
            for key, value in state.to_json().items()
            if key not in ("version", "last_recorded_at")
        },
        "projection": {
            key: value
            for key, value in stored.items()
            if key not in ("version", "last_recorded_at", "state")
        },
        "identifiers": sorted(identifiers),
        "determination": (
            determination.category,
            determination.removal_reason,
            determination.mobilisable,
            determination.result_hash,
        ),
    }


def _pictures(sessions: Sessions, persons: dict[str, uuid.UUID]) -> dict[str, Any]:
    with sessions() as session:
        return {name: _picture(session, person_id) for name, person_id in persons.items()}


def _active_identifiers_once(sessions: Sessions) -> None:
    """An identifier is active on one person at most."""
    with sessions() as session:
        active = session.execute(
            select(IdentifierRow.kind, IdentifierRow.value).where(IdentifierRow.active)
        ).all()
    assert len(active) == len(set(active))


def _setup(engine: Engine) -> tuple[Sessions, dict[str, uuid.UUID]]:
    """A, S and K, A dead (a merge moves a death, and determinations follow it)."""
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        persons = {
            name: _register(session, serial, dead=name == "A")
            for serial, name in enumerate(NAMES, start=1)
        }
        for person_id in persons.values():  # determined, as after every writer of facts
            refresh_person(session, person_id, now=NOW)
    return sessions, persons


def _merge(sessions: Sessions, survivor: uuid.UUID, absorbed: uuid.UUID, hours: int) -> uuid.UUID:
    with sessions() as session, session.begin():
        merge_id = merge_persons(
            session,
            survivor_id=survivor,
            absorbed_id=absorbed,
            actor="officer-1",
            now=NOW + dt.timedelta(hours=hours),
        ).id
    _active_identifiers_once(sessions)
    return merge_id


def _undo(sessions: Sessions, merge_id: uuid.UUID, hours: int) -> None:
    with sessions() as session, session.begin():
        undo_merge(
            session,
            merge=_stored(session, merge_id),
            actor="officer-1",
            now=NOW + dt.timedelta(hours=hours),
        )
    _active_identifiers_once(sessions)


def _stored(session: Session, merge_id: uuid.UUID) -> PersonMerge:
    merge = session.get(PersonMerge, merge_id)
    assert merge is not None
    return merge


def _holder(sessions: Sessions, serial: int) -> uuid.UUID | None:
    """Who holds the UNZR that ``_register`` gave the person of ``serial``."""
    with sessions() as session:
        return find_person_by_identifier(session, "unzr", make_unzr(BIRTH, serial))


# (first absorbed, middle, last survivor): the first merged into the middle, then the middle,
# with what it took in, into the last; every way of giving A, S and K these parts.
@pytest.mark.parametrize("chain", list(itertools.permutations(NAMES)), ids="-into-".join)
def test_a_chain_of_merges_undone_newest_first_leaves_each_person_as_before(
    engine: Engine, chain: tuple[str, str, str]
) -> None:
    sessions, persons = _setup(engine)
    first, middle, last = (persons[name] for name in chain)
    serial = {name: NAMES.index(name) + 1 for name in NAMES}
    before = _pictures(sessions, persons)
    for round_ in (0, 10):  # merged, undone, then merged and undone again
        earlier = _merge(sessions, survivor=middle, absorbed=first, hours=round_ + 1)
        with_earlier = _pictures(sessions, persons)
        later = _merge(sessions, survivor=last, absorbed=middle, hours=round_ + 2)
        assert {_holder(sessions, serial[name]) for name in chain} == {last}
        with sessions() as session, session.begin(), pytest.raises(MergeNotAllowed) as refused:
            undo_merge(session, merge=_stored(session, earlier), actor="officer-1", now=NOW)
        assert f"merged since into {last} (merge {later}); undo that merge first" in str(
            refused.value
        )
        _undo(sessions, later, hours=round_ + 3)
        # The middle person holds again what it held with the earlier merge in force: the
        # first person's identifiers with its own (and the register finds them there).
        assert _pictures(sessions, persons) == with_earlier
        _undo(sessions, earlier, hours=round_ + 4)
        assert _pictures(sessions, persons) == before
        assert [_holder(sessions, serial[name]) for name in chain] == [first, middle, last]


@pytest.mark.parametrize("undone_first", ["A", "K"])
def test_two_merges_into_one_survivor_undone_in_either_order(
    engine: Engine, undone_first: str
) -> None:
    sessions, persons = _setup(engine)
    a, s, k = (persons[name] for name in NAMES)
    before = _pictures(sessions, persons)
    merges = {"A": _merge(sessions, survivor=s, absorbed=a, hours=1)}
    only_a = _pictures(sessions, persons)
    merges["K"] = _merge(sessions, survivor=s, absorbed=k, hours=2)
    assert {_holder(sessions, serial) for serial in (1, 2, 3)} == {s}
    _undo(sessions, merges[undone_first], hours=3)
    if undone_first == "K":
        assert _pictures(sessions, persons) == only_a
    else:
        assert [_holder(sessions, serial) for serial in (1, 2, 3)] == [a, s, s]
    _undo(sessions, merges["K" if undone_first == "A" else "A"], hours=4)
    assert _pictures(sessions, persons) == before
