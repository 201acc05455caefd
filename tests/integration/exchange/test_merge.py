"""Merging a person recorded twice keeps every fact; undoing the merge restores both."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from oberih.db.engine import make_session_factory
from oberih.documents.keys import init_keyring
from oberih.documents.services import get_document, issue_document
from oberih.exchange.merge import MergeNotAllowed, merge_persons, undo_merge
from oberih.exchange.models import PersonMerge
from oberih.identifiers import make_unzr
from oberih.persons.facts import FactKind
from oberih.persons.services import (
    append_facts,
    create_person,
    find_person_by_identifier,
    get_state,
    load_facts,
)
from tests.factories import address_payload, new_fact
from tests.integration.exchange.helpers import BIRTH, NOW, RNOKPP, register_person

UNZR = make_unzr(BIRTH, 77)
# The same man as ``register_person``'s, recorded again under another spelling.
TARAS = {"surname": "Ґудзь", "given_name": "Тарас", "birth_date": "1990-03-15", "sex": "male"}


def test_merge_and_undo_keep_every_fact(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        survivor = register_person(session)
        absorbed = create_person(
            session,
            facts=[
                new_fact(FactKind.identity, TARAS, source="civil_status"),
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
        stored = _stored(session, merge_id)
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


def test_identifiers_a_source_dated_move_to_the_survivor_and_back(engine: Engine) -> None:
    # Feeds date identifiers (an UNZR assigned on a day, a passport issued on one), and an
    # identifier's status is its latest fact by that date: an undated release lost to them,
    # the absorbed person kept the identifiers active and the merge was refused.
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        survivor = register_person(session)
        absorbed = create_person(
            session,
            facts=[
                new_fact(FactKind.identity, TARAS, source="civil_status"),
                new_fact(
                    FactKind.identifier,
                    {"identifier_kind": "unzr", "value": UNZR},
                    valid_from=dt.date(2004, 3, 15),
                ),
                new_fact(
                    FactKind.identifier,
                    {"identifier_kind": "foreign_passport", "value": "FP123456"},
                    valid_from=NOW.date() + dt.timedelta(days=30),  # dated ahead by its source
                ),
            ],
            now=NOW,
        ).person_id
    later = NOW + dt.timedelta(days=1)
    with sessions() as session, session.begin():
        merge_id = merge_persons(
            session, survivor_id=survivor, absorbed_id=absorbed, actor="officer-1", now=later
        ).id
    with sessions() as session:
        assert find_person_by_identifier(session, "unzr", UNZR) == survivor
        assert find_person_by_identifier(session, "foreign_passport", "FP123456") == survivor
        assert get_state(session, absorbed).active_identifier("unzr") is None
    with sessions() as session, session.begin():
        undo_merge(
            session,
            merge=_stored(session, merge_id),
            actor="officer-1",
            now=later + dt.timedelta(days=1),
        )
    with sessions() as session:
        assert find_person_by_identifier(session, "unzr", UNZR) == absorbed
        assert find_person_by_identifier(session, "foreign_passport", "FP123456") == absorbed
        assert get_state(session, survivor).active_identifier("unzr") is None


def test_a_person_absorbed_is_not_merged_again_until_the_merge_is_undone(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        first = register_person(session)
        second, third = (
            create_person(
                session,
                facts=[new_fact(FactKind.identity, TARAS, source="civil_status")],
                now=NOW,
            ).person_id
            for _ in range(2)
        )
    later = NOW + dt.timedelta(days=1)
    with sessions() as session, session.begin():
        merge_id = merge_persons(
            session, survivor_id=first, absorbed_id=second, actor="officer-1", now=later
        ).id
    for survivor, absorbed in ((third, second), (second, third)):
        with sessions() as session, session.begin(), pytest.raises(MergeNotAllowed) as refused:
            merge_persons(
                session, survivor_id=survivor, absorbed_id=absorbed, actor="officer-1", now=later
            )
        assert f"was merged into {first} (merge {merge_id}); undo that merge first" in str(
            refused.value
        )
    with sessions() as session, session.begin():  # the survivor absorbed in turn
        chained = merge_persons(
            session, survivor_id=third, absorbed_id=first, actor="officer-1", now=later
        ).id
    with sessions() as session, session.begin(), pytest.raises(MergeNotAllowed) as refused:
        undo_merge(session, merge=_stored(session, merge_id), actor="officer-1", now=later)
    assert f"merged since into {third} (merge {chained})" in str(refused.value)
    with sessions() as session, session.begin():
        for undone in (chained, merge_id):  # newest first, then the first can be merged again
            undo_merge(session, merge=_stored(session, undone), actor="officer-1", now=later)
        merge_persons(session, survivor_id=third, absorbed_id=second, actor="officer-1", now=later)


def _stored(session: Session, merge_id: uuid.UUID) -> PersonMerge:
    merge = session.get(PersonMerge, merge_id)
    assert merge is not None
    return merge


def test_a_merge_revokes_the_documents_it_makes_untrue(engine: Engine, tmp_path: Path) -> None:
    # The absorbed record holds a death: the survivor's e-document, valid until now, must not
    # go on saying he is on the register as liable (``documents.services`` asks every writer of
    # facts to check; a merge writes them).
    keyring = init_keyring(tmp_path / "keys", now=NOW - dt.timedelta(days=30))
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        survivor = register_person(session)
        append_facts(
            session,
            person_id=survivor,
            facts=[new_fact(FactKind.address, address_payload("Полтава", "UA53"))],
            now=NOW - dt.timedelta(days=1),
        )
        absorbed = create_person(
            session,
            facts=[
                new_fact(FactKind.identity, TARAS, source="civil_status"),
                new_fact(FactKind.death, {"date_of_death": "2026-10-20"}, source="civil_status"),
            ],
            now=NOW,
        ).person_id
        document, _claims = issue_document(
            session, person_id=survivor, keyring=keyring, issuer="UA", now=NOW, issued_by="t"
        )
        document_id = document.document_id
    later = NOW + dt.timedelta(days=1)
    with sessions() as session, session.begin():
        merge_persons(
            session, survivor_id=survivor, absorbed_id=absorbed, actor="officer-1", now=later
        )
    with sessions() as session:
        revoked = get_document(session, document_id)
        assert revoked.revoked_at is not None
