"""Merges over HTTP: a merge read, and undone by an officer (the pair it confirmed reopened)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import func, select

from oberih.audit.models import AuditInboxRow
from oberih.auth.principals import Principal, Role
from oberih.db.engine import make_session_factory
from oberih.exchange.dedup import find_duplicates
from oberih.exchange.merge import get_merge, merge_persons, undo_merge
from oberih.exchange.resolution import Resolver
from oberih.persons.models import FactRow
from oberih.persons.services import find_person_by_identifier, get_state
from tests.integration.api.conftest import OFFICER_KYIV, PURPOSE, World, citizen
from tests.integration.exchange.helpers import NOW, TWICE_UNZR, register_twice, waits_for_a_lock

ADMIN = Principal(subject="admin-1", role=Role.registry_admin)
OTHER_ADMIN = Principal(subject="admin-2", role=Role.registry_admin)
DUPLICATES = "/api/v1/exchange/duplicates"
MERGES = "/api/v1/exchange/merges"
NO_SUCH = "00000000-0000-4000-8000-000000000000"


def _admin(world: World, principal: Principal = ADMIN) -> dict[str, str]:
    return world.headers(principal, purpose="DATA-CLARIFICATION")


def _merged_from_the_queue(world: World) -> tuple[dict[str, Any], uuid.UUID, uuid.UUID]:
    """A man registered twice, queued by ``oberih dedup`` and merged by an officer over HTTP:
    the pair as listed, the survivor and the absorbed person."""
    with make_session_factory(world.engine)() as session, session.begin():
        survivor, absorbed = register_twice(session)
        find_duplicates(session, resolver=Resolver(), now=NOW)
    [pair] = [
        item
        for item in world.client.get(DUPLICATES, headers=_admin(world)).json()["items"]
        if {item["person_id"], item["other_person_id"]} == {str(survivor), str(absorbed)}
    ]
    merged = world.client.post(
        f"{DUPLICATES}/{pair['duplicate_id']}/merge",
        json={"survivor_id": str(survivor)},
        headers=_admin(world),
    )
    assert merged.status_code == 200, merged.text
    return merged.json(), survivor, absorbed


def _undo(world: World, merge_id: str, principal: Principal = ADMIN) -> Response:
    return world.client.post(f"{MERGES}/{merge_id}/undo", headers=_admin(world, principal))


def _retractions(world: World, merge_id: str) -> int:
    with world.engine.connect() as connection:
        count = connection.scalar(
            select(func.count())
            .select_from(FactRow)
            .where(FactRow.source_record_id.like(f"unmerge:{merge_id}:%"))
        )
    return int(count or 0)


def test_an_officer_undoes_a_merge_and_its_pair_is_open_again(world: World) -> None:
    merged, survivor, absorbed = _merged_from_the_queue(world)
    merge_id = merged["merge_id"]

    shown = world.client.get(f"{MERGES}/{merge_id}", headers=_admin(world))
    assert shown.status_code == 200, shown.text
    merge = shown.json()
    assert (merge["survivor_id"], merge["absorbed_id"]) == (str(survivor), str(absorbed))
    assert (merge["merged_by"], merge["undone_at"], merge["undone_by"]) == (ADMIN.actor, None, None)

    undone = _undo(world, merge_id)
    assert undone.status_code == 200, undone.text
    answer = undone.json()
    assert answer["merge"]["undone_by"] == ADMIN.actor and answer["merge"]["undone_at"]
    assert answer["duplicate"]["duplicate_id"] == merged["duplicate"]["duplicate_id"]
    assert (answer["duplicate"]["status"], answer["duplicate"]["decided_by"]) == ("open", None)
    assert answer["duplicate"]["merge_id"] == merge_id  # the undone merge, still named
    assert world.client.get(f"{MERGES}/{merge_id}", headers=_admin(world)).json() == answer["merge"]
    listed = world.client.get(DUPLICATES, headers=_admin(world)).json()["items"]
    assert merged["duplicate"]["duplicate_id"] in [item["duplicate_id"] for item in listed]
    with make_session_factory(world.engine)() as session:
        assert find_person_by_identifier(session, "unzr", TWICE_UNZR) == absorbed
        assert get_state(session, survivor).date_of_death is None  # the copied death retracted
        writes = session.execute(
            select(AuditInboxRow.person_id, AuditInboxRow.actor, AuditInboxRow.fields).where(
                AuditInboxRow.action == "person:record:write"
            )
        ).all()
    # Each person's record written by the merge, then by its undoing, under the officer's name.
    assert sorted(writes) == sorted(
        [(person, ADMIN.actor, ["merge"]) for person in (survivor, absorbed)] * 2
    )


def test_a_merge_already_undone_is_a_409(world: World) -> None:
    merged, _, _ = _merged_from_the_queue(world)
    merge_id = merged["merge_id"]
    assert _undo(world, merge_id).status_code == 200
    retracted = _retractions(world, merge_id)
    again = _undo(world, merge_id)
    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["detail"] == "this merge is already undone"
    assert _retractions(world, merge_id) == retracted > 0  # nothing written twice


def test_a_merge_whose_survivor_was_merged_since_is_a_409(world: World) -> None:
    merged, survivor, _ = _merged_from_the_queue(world)
    with make_session_factory(world.engine)() as session, session.begin():
        later = merge_persons(
            session, survivor_id=world.kyiv_person, absorbed_id=survivor, actor="o-1", now=NOW
        )
    refused = _undo(world, merged["merge_id"])
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        f"the survivor was merged since into {world.kyiv_person} (merge {later.id}); "
        "undo that merge first"
    )
    assert (
        world.client.get(f"{MERGES}/{merged['merge_id']}", headers=_admin(world)).json()[
            "undone_at"
        ]
        is None
    )
    assert _undo(world, str(later.id)).status_code == 200  # the later merge undone first


def test_a_chain_of_merges_is_undone_newest_first_over_http(world: World) -> None:
    # The survivor, absorbed in turn, got the absorbed person's UNZR back on the later merge's
    # undoing as if it were its own, and kept it: the earlier merge could never be undone (409,
    # the UNZR already active).
    merged, survivor, absorbed = _merged_from_the_queue(world)
    with make_session_factory(world.engine)() as session, session.begin():
        later = merge_persons(
            session, survivor_id=world.kyiv_person, absorbed_id=survivor, actor="o-1", now=NOW
        )
    for merge_id in (str(later.id), merged["merge_id"]):
        undone = _undo(world, merge_id)
        assert undone.status_code == 200, undone.text
    with make_session_factory(world.engine)() as session:
        assert find_person_by_identifier(session, "unzr", TWICE_UNZR) == absorbed
        assert get_state(session, survivor).active_identifier("unzr") is None
        assert get_state(session, world.kyiv_person).active_identifier("unzr") is None


@pytest.mark.parametrize(
    ("method", "path"), [("GET", f"{MERGES}/{NO_SUCH}"), ("POST", f"{MERGES}/{NO_SUCH}/undo")]
)
def test_an_unknown_merge_is_a_404(world: World, method: str, path: str) -> None:
    response = world.client.request(method, path, headers=_admin(world))
    assert response.status_code == 404, response.text
    assert response.json()["title"] == "No such merge"


@pytest.mark.parametrize("caller", ["citizen", "officer"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_only_the_registers_administrators_read_or_undo_a_merge(
    world: World, caller: str, method: str
) -> None:
    merged, survivor, _ = _merged_from_the_queue(world)
    headers = (
        world.headers(citizen(survivor))
        if caller == "citizen"
        else world.headers(OFFICER_KYIV, purpose=PURPOSE)
    )
    path = f"{MERGES}/{merged['merge_id']}" + ("/undo" if method == "POST" else "")
    refused = world.client.request(method, path, headers=headers)
    assert refused.status_code == 403, refused.text
    assert (
        world.client.get(f"{MERGES}/{merged['merge_id']}", headers=_admin(world)).json()[
            "undone_at"
        ]
        is None
    )


# Row locks are PostgreSQL's: SQLite lets one writer at a time in.
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_of_two_officers_undoing_one_merge_the_second_is_refused(world: World) -> None:
    merged, _, _ = _merged_from_the_queue(world)
    merge_id = merged["merge_id"]
    answers: list[Response] = []
    second = threading.Thread(target=lambda: answers.append(_undo(world, merge_id, OTHER_ADMIN)))
    sessions = make_session_factory(world.engine)
    try:
        with sessions() as session, session.begin():
            # The first officer's undoing, not committed yet when the second's request comes.
            undo_merge(
                session, merge=get_merge(session, uuid.UUID(merge_id)), actor="admin-1", now=NOW
            )
            second.start()
            assert waits_for_a_lock(world.engine)
    finally:
        second.join(timeout=30)
    assert not second.is_alive()
    [answer] = answers
    assert answer.status_code == 409, answer.text
    assert answer.json()["detail"] == "this merge is already undone"
    with sessions() as session:
        assert get_merge(session, uuid.UUID(merge_id)).undone_by == "admin-1"
        merge = get_merge(session, uuid.UUID(merge_id))
        written = len(merge.copies) + len(merge.released)  # copies, and releases of identifiers
    assert _retractions(world, merge_id) == written  # each retracted once, not twice
