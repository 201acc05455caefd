"""Persons over real HTTP: reads with provenance, jurisdiction, optimistic concurrency, audit."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select, text

from oberih.audit.models import AuditEventRow, AuditInboxRow
from tests.audit_support import audit_leaves, sequence_everything
from tests.integration.api.conftest import (
    AUDITOR,
    EMPLOYER_PRINCIPAL,
    OFFICER_KYIV,
    OFFICER_LVIV,
    PURPOSE,
    World,
    citizen,
)


def _audit(world: World) -> list[AuditEventRow]:
    """The audit log's leaves, once every request's inbox row is sequenced into the tree."""
    return audit_leaves(world.engine)


def test_officer_reads_a_person_of_their_area_with_provenance_and_etag(world: World) -> None:
    response = world.client.get(
        f"/api/v1/persons/{world.kyiv_person}", headers=world.headers(OFFICER_KYIV, purpose=PURPOSE)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["identity"]["data"]["surname"] == "Шевченко"
    assert body["identity"]["source"] == "civil_status"
    assert response.headers["etag"] == f'"{body["version"]}"'
    events = _audit(world)
    assert events[-1].action == "person:record:read"
    assert events[-1].purpose == PURPOSE
    assert str(events[-1].person_id) == str(world.kyiv_person)


def test_officer_reads_need_a_purpose(world: World) -> None:
    response = world.client.get(
        f"/api/v1/persons/{world.kyiv_person}", headers=world.headers(OFFICER_KYIV)
    )
    assert response.status_code == 403
    assert response.json()["type"].endswith("/purpose-required")


def test_lviv_officer_cannot_read_search_or_infer_a_kyiv_person(world: World) -> None:
    headers = world.headers(OFFICER_LVIV, purpose=PURPOSE)
    outside = world.client.get(f"/api/v1/persons/{world.kyiv_person}", headers=headers)
    nobody = world.client.get(
        "/api/v1/persons/00000000-0000-4000-8000-000000000000", headers=headers
    )
    # Indistinguishable from a person who does not exist.
    assert outside.status_code == nobody.status_code == 404
    assert outside.json()["type"] == nobody.json()["type"]
    found = world.client.get("/api/v1/persons", params={"q": "Шевченко Тарас"}, headers=headers)
    assert found.status_code == 200
    assert str(world.kyiv_person) not in {hit["person_id"] for hit in found.json()["items"]}
    denials = [e for e in _audit(world) if e.outcome == "denied"]
    assert [str(e.person_id) for e in denials] == [str(world.kyiv_person)]


def test_kyiv_officer_finds_the_kyiv_person_by_misspelled_name(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    found = world.client.get("/api/v1/persons", params={"q": "Шевчинко Тарас"}, headers=headers)
    assert found.status_code == 200
    assert [hit["person_id"] for hit in found.json()["items"]] == [str(world.kyiv_person)]


def test_a_citizen_reads_only_their_own_record(world: World) -> None:
    own = citizen(world.kyiv_person)
    assert world.client.get("/api/v1/me", headers=world.headers(own)).status_code == 200
    other = world.client.get(f"/api/v1/persons/{world.lviv_person}", headers=world.headers(own))
    assert other.status_code == 404
    assert any(
        e.outcome == "denied" and str(e.person_id) == str(world.lviv_person) for e in _audit(world)
    )


def test_employer_sees_only_reservation_data_of_own_employees(world: World) -> None:
    headers = world.headers(EMPLOYER_PRINCIPAL)
    listing = world.client.get("/api/v1/employer/reservations", headers=headers)
    assert listing.status_code == 200
    items = listing.json()["items"]
    assert [item["person_id"] for item in items] == [str(world.employee)]
    assert set(items[0]) == {"person_id", "surname", "given_name", "patronymic", "reservations"}
    record = world.client.get(f"/api/v1/persons/{world.employee}", headers=headers)
    assert record.status_code == 403
    # Leaf order is sequencing order, (txid, id) of the inbox rows, not the order of requests.
    reads = [e for e in _audit(world) if e.person_id == world.employee and e.role == "employer"]
    assert any(e.outcome == "denied" for e in reads)


def test_auditor_sees_no_personal_data(world: World) -> None:
    response = world.client.get(
        f"/api/v1/persons/{world.kyiv_person}", headers=world.headers(AUDITOR)
    )
    assert response.status_code == 403


def test_missing_or_bad_token_is_401(world: World) -> None:
    assert world.client.get(f"/api/v1/persons/{world.kyiv_person}").status_code == 401
    bad = world.client.get(
        f"/api/v1/persons/{world.kyiv_person}", headers={"Authorization": "Bearer abc.def.ghi"}
    )
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"


def test_stale_write_gets_412_and_fresh_write_succeeds(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    url = f"/api/v1/persons/{world.kyiv_person}"
    etag = world.client.get(url, headers=headers).headers["etag"]
    command = {
        "kind": "contact",
        "payload": {"phone": "+380671112233"},
        "legal_basis": "Res. 1487 p. 31",
    }
    first = world.client.post(
        f"{url}/facts",
        json=command,
        headers={**headers, "If-Match": etag, "Idempotency-Key": "key-00001"},
    )
    assert first.status_code == 201
    assert first.headers["etag"] != etag
    stale = world.client.post(f"{url}/facts", json=command, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["type"].endswith("/stale-version")
    missing = world.client.post(f"{url}/facts", json=command, headers=headers)
    assert missing.status_code == 428


def test_resending_a_command_with_the_same_idempotency_key_changes_nothing(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    url = f"/api/v1/persons/{world.kyiv_person}"
    etag = world.client.get(url, headers=headers).headers["etag"]
    command = {"kind": "contact", "payload": {"email": "a@example.org"}, "legal_basis": "Res. 1487"}
    send = {**headers, "If-Match": etag, "Idempotency-Key": "same-key-1"}
    first = world.client.post(f"{url}/facts", json=command, headers=send)
    assert first.status_code == 201
    facts_after_first = world.client.get(f"{url}/facts", headers=headers).json()["items"]
    # The re-send carries the If-Match of the first send, stale by now: the key is recognised
    # before the version is checked, so it is answered with the first send's outcome, not 412.
    again = world.client.post(f"{url}/facts", json=command, headers=send)
    assert again.status_code == 200
    assert again.json()["appended"] == []
    assert [f["id"] for f in again.json()["duplicates"]] == [
        f["id"] for f in first.json()["appended"]
    ]
    assert again.headers["etag"] == first.headers["etag"]
    assert world.client.get(f"{url}/facts", headers=headers).json()["items"] == facts_after_first
    # The version check still guards anything new: another key with that If-Match is stale,
    # and the same key with other content is a conflict.
    other_key = {**send, "Idempotency-Key": "same-key-2"}
    assert world.client.post(f"{url}/facts", json=command, headers=other_key).status_code == 412
    changed = {**command, "payload": {"email": "b@example.org"}}
    assert world.client.post(f"{url}/facts", json=changed, headers=send).status_code == 409


def test_invalid_command_is_422_naming_the_field(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    url = f"/api/v1/persons/{world.kyiv_person}"
    etag = world.client.get(url, headers=headers).headers["etag"]
    response = world.client.post(
        f"{url}/facts",
        json={"kind": "contact", "payload": {"phone": "12"}, "legal_basis": "Res. 1487"},
        headers={**headers, "If-Match": etag},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "payload.phone"
    no_basis = world.client.post(
        f"{url}/facts",
        json={"kind": "contact", "payload": {"phone": "+380671112233"}},
        headers={**headers, "If-Match": etag},
    )
    assert no_basis.status_code == 422
    assert any(e["field"] == "legal_basis" for e in no_basis.json()["errors"])


def test_state_as_of_a_past_date(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    past = world.client.get(
        f"/api/v1/persons/{world.kyiv_person}", params={"valid_at": "2014-06-01"}, headers=headers
    )
    assert past.status_code == 200
    assert past.json()["registered_address"] is None
    assert past.json()["valid_at"] == "2014-06-01"


def test_citizen_sees_who_read_their_record(world: World) -> None:
    world.client.get(
        f"/api/v1/persons/{world.kyiv_person}", headers=world.headers(OFFICER_KYIV, purpose=PURPOSE)
    )
    sequence_everything(
        world.engine
    )  # the view sequences too, but may find the row not yet settled
    response = world.client.get(
        "/api/v1/me/accesses", headers=world.headers(citizen(world.kyiv_person))
    )
    assert response.status_code == 200
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    assert any(item.get("purpose") == PURPOSE for item in items)


def _inbox_rows(world: World) -> int:
    with world.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(AuditInboxRow)) or 0)


def test_a_read_is_answered_only_once_its_audit_event_is_durable(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    url = f"/api/v1/persons/{world.kyiv_person}"

    async def concurrent_reads() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=world.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.get(url, headers=headers) for _ in range(12)))

    before = _inbox_rows(world)
    responses = asyncio.run(concurrent_reads())
    assert [r.status_code for r in responses] == [200] * 12
    # Committed before the answers left, whichever batches they were written in.
    assert _inbox_rows(world) == before + 12
    reads = [e for e in _audit(world) if e.action == "person:record:read"]
    assert sorted(e.request_id for e in reads[-12:]) == sorted(
        r.headers["x-request-id"] for r in responses
    )


def test_a_read_whose_audit_event_cannot_be_recorded_discloses_nothing(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    url = f"/api/v1/persons/{world.kyiv_person}"
    with world.engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_inbox RENAME TO audit_inbox_away"))
    refused = world.client.get(url, headers=headers)
    with world.engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_inbox_away RENAME TO audit_inbox"))
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/audit-unavailable")
    assert "Шевченко" not in refused.text and str(world.kyiv_person) not in refused.text
    assert "etag" not in refused.headers
    # The writer recovers with the inbox.
    assert world.client.get(url, headers=headers).status_code == 200
