"""GET /api/v1/changes: ordered, resumable, scoped to the caller's area."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.api.conftest import OFFICER_KYIV, PURPOSE, World


def _first_page(world: World, headers: dict[str, str]) -> dict[str, Any]:
    # The feed holds back events until every transaction that began before them has ended (so
    # none can appear behind a cursor). On PostgreSQL that horizon is the cluster's: another
    # test's open transaction delays the feed for a moment, as a long transaction would in service.
    deadline = time.monotonic() + 20
    while True:
        page = world.client.get("/api/v1/changes", headers=headers)
        assert page.status_code == 200, page.text
        body: dict[str, Any] = page.json()
        if body["changes"] or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_an_officer_follows_the_changes_of_their_area(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    body = _first_page(world, headers)
    persons = {change["person_id"] for change in body["changes"]}
    assert str(world.kyiv_person) in persons
    assert str(world.lviv_person) not in persons
    again = world.client.get(
        "/api/v1/changes", params={"after": body["next_cursor"]}, headers=headers
    ).json()
    assert again["changes"] == [] and again["next_cursor"] == body["next_cursor"]
    bad = world.client.get("/api/v1/changes", params={"after": "nope"}, headers=headers)
    assert bad.status_code == 422


@pytest.mark.parametrize(
    "cursor",
    [
        "9223372036854775808-0",  # past the BIGINT the positions are
        "0-99999999999999999999",
        "²-1",  # digits to str.isdigit, not to int()
        "١-١",  # Arabic-Indic digits: not a cursor this service issued
    ],
)
def test_a_cursor_the_feed_did_not_issue_is_a_422(world: World, cursor: str) -> None:
    response = world.client.get(
        "/api/v1/changes",
        params={"after": cursor},
        headers=world.headers(OFFICER_KYIV, purpose=PURPOSE),
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/invalid-cursor")
