"""Determinations over HTTP: explained, scoped like the record, stored when facts change."""

from __future__ import annotations

from sqlalchemy import func, select

from oberih.rules.models import DeterminationRow
from tests.integration.api.conftest import OFFICER_KYIV, OFFICER_LVIV, PURPOSE, World, citizen


def test_officer_gets_the_determination_with_its_explanation(world: World) -> None:
    response = world.client.get(
        f"/api/v1/persons/{world.kyiv_person}/determination",
        params={"at": "2026-11-20"},
        headers=world.headers(OFFICER_KYIV, purpose=PURPOSE),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["category"] == "liable"
    assert isinstance(body["mobilisable"], bool)
    assert body["explanation"], "every answer is explained"
    assert body["plain_language"]["uk"] and body["plain_language"]["en"]


def test_determination_outside_the_area_is_not_found(world: World) -> None:
    response = world.client.get(
        f"/api/v1/persons/{world.kyiv_person}/determination",
        headers=world.headers(OFFICER_LVIV, purpose=PURPOSE),
    )
    assert response.status_code == 404


def test_citizen_reads_own_determination(world: World) -> None:
    response = world.client.get(
        "/api/v1/me/determination", headers=world.headers(citizen(world.lviv_person))
    )
    assert response.status_code == 200
    assert response.json()["person_id"] == str(world.lviv_person)


def test_what_if_stores_nothing_and_rejects_days_outside_the_profile(world: World) -> None:
    situation = {"birth_date": "2000-02-29", "sex": "male", "citizenship": "UKR"}
    headers = world.headers(citizen(world.lviv_person))
    ok = world.client.post(
        "/api/v1/rules/evaluate", json={"on": "2026-11-20", "situation": situation}, headers=headers
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["category"] in {"liable", "conscript", "not_liable", "reservist", "removed"}
    too_early = world.client.post(
        "/api/v1/rules/evaluate", json={"on": "1990-01-01", "situation": situation}, headers=headers
    )
    assert too_early.status_code == 422
    assert world.client.post("/api/v1/rules/evaluate", json={}, headers=headers).status_code == 422


def test_a_command_stores_the_new_determination(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    url = f"/api/v1/persons/{world.kyiv_person}"
    etag = world.client.get(url, headers=headers).headers["etag"]
    response = world.client.post(
        f"{url}/facts",
        json={
            "kind": "military_registration",
            "payload": {"category": "liable", "office_code": "TCC-UA80-01", "rank": "сержант"},
            "legal_basis": "Res. 1487 p. 40",
        },
        headers={**headers, "If-Match": etag},
    )
    assert response.status_code == 201, response.text
    with world.engine.connect() as connection:
        stored = connection.execute(
            select(func.count())
            .select_from(DeterminationRow)
            .where(DeterminationRow.person_id == world.kyiv_person)
        ).scalar_one()
    assert stored >= 1
