"""The duplicate review over HTTP: the pairs ``oberih dedup`` queued, listed, shown, decided."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from oberih.api.pagination import keyset_cursor
from oberih.audit.models import AuditEventRow, AuditInboxRow
from oberih.auth.principals import Principal, Role
from oberih.db.engine import make_session_factory
from oberih.exchange.dedup import find_duplicates
from oberih.exchange.merge import merge_persons, undo_merge
from oberih.exchange.models import PersonMerge
from oberih.exchange.resolution import Resolver
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person, find_person_by_identifier, get_state
from tests.factories import new_fact
from tests.integration.api.conftest import OFFICER_KYIV, PURPOSE, World
from tests.integration.exchange.helpers import (
    IDENTITY,
    NOW,
    TWICE_UNZR,
    left_open,
    register_overlapping,
    register_twice,
)

ADMIN = Principal(subject="admin-1", role=Role.registry_admin)
DUPLICATES = "/api/v1/exchange/duplicates"
NO_SUCH = "00000000-0000-4000-8000-000000000000"


def _admin(world: World) -> dict[str, str]:
    return world.headers(ADMIN, purpose="DATA-CLARIFICATION")


def _queue(world: World) -> tuple[uuid.UUID, uuid.UUID]:
    """A man registered twice, and ``oberih dedup`` run over the register."""
    with make_session_factory(world.engine)() as session, session.begin():
        first, second = register_twice(session)
        find_duplicates(session, resolver=Resolver(), now=NOW)
    return first, second


def _pair_of(world: World, first: uuid.UUID, second: uuid.UUID) -> dict[str, Any]:
    listed = world.client.get(DUPLICATES, headers=_admin(world))
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    [pair] = [
        item
        for item in items
        if {item["person_id"], item["other_person_id"]} == {str(first), str(second)}
    ]
    return pair


def test_an_officer_merges_a_person_registered_twice(world: World) -> None:
    survivor, absorbed = _queue(world)
    pair = _pair_of(world, survivor, absorbed)
    assert pair["status"] == "open" and pair["score"] > 0
    assert "surname" not in pair  # the list holds ids and scores, no personal data

    shown = world.client.get(f"{DUPLICATES}/{pair['duplicate_id']}", headers=_admin(world))
    assert shown.status_code == 200, shown.text
    detail = shown.json()
    assert [p["person"]["surname"] for p in detail["persons"]] == ["Ґудзь", "Ґудзь"]
    assert {p["person_id"] for p in detail["persons"]} == {str(survivor), str(absorbed)}
    assert detail["levels"]["birth_date"] and set(detail["weights"]) == set(detail["levels"])
    assert detail["merge"] is None

    merged = world.client.post(
        f"{DUPLICATES}/{pair['duplicate_id']}/merge",
        json={"survivor_id": str(survivor)},
        headers=_admin(world),
    )
    assert merged.status_code == 200, merged.text
    answer = merged.json()
    assert answer["duplicate"]["status"] == "confirmed"
    assert answer["duplicate"]["decided_by"] == ADMIN.actor
    assert answer["duplicate"]["merge_id"] == answer["merge_id"]
    with make_session_factory(world.engine)() as session:
        assert find_person_by_identifier(session, "unzr", TWICE_UNZR) == survivor
        assert get_state(session, survivor).date_of_death == dt.date(2026, 10, 20)
        audited = _audited(session, survivor, absorbed)
    # Each person's identity read when shown, and each record written by the merge.
    assert sorted(audited) == sorted(
        [(action, person) for action in ("person:match:review", "person:record:write")
         for person in (survivor, absorbed)]
    )  # fmt: skip
    still = world.client.get(DUPLICATES, headers=_admin(world)).json()["items"]
    assert pair["duplicate_id"] not in [item["duplicate_id"] for item in still]


def test_an_officer_rejects_a_pair_and_cannot_decide_it_again(world: World) -> None:
    first, second = _queue(world)
    pair = _pair_of(world, first, second)
    url = f"{DUPLICATES}/{pair['duplicate_id']}"
    rejected = world.client.post(f"{url}/reject", headers=_admin(world))
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    for again in (
        world.client.post(f"{url}/reject", headers=_admin(world)),
        world.client.post(f"{url}/merge", json={"survivor_id": str(first)}, headers=_admin(world)),
    ):
        assert again.status_code == 409, again.text
        assert again.json()["title"] == "this duplicate pair is already decided"
    with make_session_factory(world.engine)() as session:  # nothing moved
        assert find_person_by_identifier(session, "unzr", TWICE_UNZR) == second


def test_the_survivor_must_be_one_of_the_pair(world: World) -> None:
    first, second = _queue(world)
    pair = _pair_of(world, first, second)
    merge = f"{DUPLICATES}/{pair['duplicate_id']}/merge"
    for body, reason in [
        ({"survivor_id": str(world.kyiv_person)}, f"person {world.kyiv_person} is not one of"),
        ({"survivor_id": "not an id"}, "UUID"),
        ({}, "Field required"),
    ]:
        refused = world.client.post(merge, json=body, headers=_admin(world))
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert error["field"].endswith("survivor_id") and reason in error["reason"]
    assert _pair_of(world, first, second)["status"] == "open"


def test_a_merge_the_register_refuses_is_a_409(world: World) -> None:
    first, second = _queue(world)
    pair = _pair_of(world, first, second)
    with make_session_factory(world.engine)() as session, session.begin():
        merge_persons(
            session, survivor_id=world.kyiv_person, absorbed_id=first, actor="o-1", now=NOW
        )
        left_open(session, uuid.UUID(pair["duplicate_id"]))
    refused = world.client.post(
        f"{DUPLICATES}/{pair['duplicate_id']}/merge",
        json={"survivor_id": str(second)},
        headers=_admin(world),
    )
    assert refused.status_code == 409, refused.text
    assert "undo that merge first" in refused.json()["detail"]


def test_a_merge_supersedes_the_absorbed_persons_other_pairs_in_the_list(world: World) -> None:
    # Open pairs A-B and B-C: B merged into A leaves B-C undecidable (B is absorbed); A-C is
    # the question now.
    with make_session_factory(world.engine)() as session, session.begin():
        persons = register_overlapping(session)
        find_duplicates(session, resolver=Resolver(), now=NOW)
    names = {str(person_id): name for name, person_id in persons.items()}

    def listed() -> dict[str, dict[str, Any]]:
        response = world.client.get(DUPLICATES, headers=_admin(world))
        assert response.status_code == 200, response.text
        return {
            "".join(sorted(names[item["person_id"]] + names[item["other_person_id"]])): item
            for item in response.json()["items"]
            if item["person_id"] in names and item["other_person_id"] in names
        }

    before = listed()
    assert set(before) == {"AB", "BC"}
    merged = world.client.post(
        f"{DUPLICATES}/{before['AB']['duplicate_id']}/merge",
        json={"survivor_id": str(persons["A"])},
        headers=_admin(world),
    )
    assert merged.status_code == 200, merged.text
    merge_id = merged.json()["merge_id"]
    after = listed()
    assert set(after) == {"AC"}
    assert after["AC"]["queued_by_merge_id"] == merge_id and after["AC"]["merge_id"] is None

    superseded = f"{DUPLICATES}/{before['BC']['duplicate_id']}"
    shown = world.client.get(superseded, headers=_admin(world))
    assert shown.status_code == 200, shown.text
    detail = shown.json()
    assert (detail["duplicate"]["status"], detail["duplicate"]["merge_id"]) == (
        "superseded",
        merge_id,
    )
    assert detail["merge"]["merge_id"] == merge_id
    assert (detail["merge"]["survivor_id"], detail["merge"]["absorbed_id"]) == (
        str(persons["A"]),
        str(persons["B"]),
    )
    refused = world.client.post(
        f"{superseded}/merge", json={"survivor_id": str(persons["C"])}, headers=_admin(world)
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["title"] == "this duplicate pair is already decided"
    assert refused.json()["detail"] == (
        f"superseded by merge {merge_id}: decide the survivor's pair instead"
    )

    with make_session_factory(world.engine)() as session, session.begin():
        merge = session.get(PersonMerge, uuid.UUID(merge_id))
        assert merge is not None
        undo_merge(session, merge=merge, actor="officer-2", now=NOW + dt.timedelta(hours=1))
    assert {name: item["duplicate_id"] for name, item in listed().items()} == {
        name: item["duplicate_id"] for name, item in before.items()
    }
    withdrawn = world.client.get(
        f"{DUPLICATES}/{after['AC']['duplicate_id']}", headers=_admin(world)
    )
    assert withdrawn.status_code == 404, withdrawn.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{DUPLICATES}/{NO_SUCH}"),
        ("POST", f"{DUPLICATES}/{NO_SUCH}/reject"),
        ("POST", f"{DUPLICATES}/{NO_SUCH}/merge"),
    ],
)
def test_an_unknown_pair_is_a_404(world: World, method: str, path: str) -> None:
    response = world.client.request(
        method, path, json={"survivor_id": NO_SUCH}, headers=_admin(world)
    )
    assert response.status_code == 404, response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", DUPLICATES),
        ("GET", f"{DUPLICATES}/{NO_SUCH}"),
        ("POST", f"{DUPLICATES}/{NO_SUCH}/reject"),
        ("POST", f"{DUPLICATES}/{NO_SUCH}/merge"),
    ],
)
def test_a_recruitment_officer_may_not_review_duplicates(
    world: World, method: str, path: str
) -> None:
    # Merging persons is nationwide work of the register's administrators.
    response = world.client.request(
        method,
        path,
        json={"survivor_id": NO_SUCH},
        headers=world.headers(OFFICER_KYIV, purpose=PURPOSE),
    )
    assert response.status_code == 403, response.text


def test_open_pairs_are_listed_page_by_page_to_their_end(world: World) -> None:
    with make_session_factory(world.engine)() as session, session.begin():
        register_twice(session)
        for _ in range(2):
            create_person(session, facts=[_taras_again()], now=NOW)
        report = find_duplicates(session, resolver=Resolver(), now=NOW)
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = world.client.get(DUPLICATES, params=params, headers=_admin(world))
        assert response.status_code == 200, response.text
        pages += 1
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert report.queued >= 6  # four records of one man, and any pair of the world's persons
    assert len({item["duplicate_id"] for item in items}) == len(items) == report.queued
    assert pages == (report.queued + 1) // 2  # no empty page at the end


@pytest.mark.parametrize(
    "cursor",
    [
        "AAAA",
        keyset_cursor(["2026-11-01T00:00:00+00:00"]),
        keyset_cursor(["yesterday", NO_SUCH]),
        keyset_cursor(["2026-11-01T00:00:00+00:00", "not a uuid"]),
        keyset_cursor(["2026-11-01T00:00:00+00:00", 5]),
        keyset_cursor({"after": 1}),
    ],
)
def test_a_cursor_the_service_did_not_issue_is_a_422(world: World, cursor: str) -> None:
    response = world.client.get(DUPLICATES, params={"cursor": cursor}, headers=_admin(world))
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "cursor", "reason": "not a cursor this service issued"}
    ]


def _audited(session: Any, *persons: uuid.UUID) -> list[tuple[str, uuid.UUID]]:
    """The audit events about ``persons``, sequenced into the log or still in its inbox."""
    events: list[tuple[str, uuid.UUID]] = []
    for table in (AuditInboxRow, AuditEventRow):
        query = select(table.action, table.person_id).where(table.person_id.in_(persons))
        events += [(action, person) for action, person in session.execute(query)]
    return events


def _taras_again() -> Any:
    return new_fact(FactKind.identity, IDENTITY, source="civil_status")
