"""GET /api/v1/changes: ordered, resumable, scoped to the caller's area."""

from __future__ import annotations

from tests.integration.api.conftest import OFFICER_KYIV, PURPOSE, World


def test_an_officer_follows_the_changes_of_their_area(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    page = world.client.get("/api/v1/changes", headers=headers)
    assert page.status_code == 200, page.text
    body = page.json()
    persons = {change["person_id"] for change in body["changes"]}
    assert str(world.kyiv_person) in persons
    assert str(world.lviv_person) not in persons
    again = world.client.get(
        "/api/v1/changes", params={"after": body["next_cursor"]}, headers=headers
    ).json()
    assert again["changes"] == [] and again["next_cursor"] == body["next_cursor"]
    bad = world.client.get("/api/v1/changes", params={"after": "nope"}, headers=headers)
    assert bad.status_code == 422
