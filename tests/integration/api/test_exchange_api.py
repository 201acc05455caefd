"""Exchange over HTTP: signed batches from source clients, status, quarantine and review."""

from __future__ import annotations

import datetime as dt

from oberih.auth.principals import Principal, Role
from oberih.db.engine import make_session_factory
from oberih.exchange.services import Processor
from oberih.exchange.settings import KEY_RING_SERVICE
from tests.integration.api.conftest import World
from tests.integration.exchange.helpers import NOW, SourceKeys, lines, message, register_person

TAX = Principal(subject="tax-gateway", role=Role.source_register, source="tax")
BORDER = Principal(subject="border-gateway", role=Role.source_register, source="border")
ADMIN = Principal(subject="admin-1", role=Role.registry_admin)


def drain(world: World) -> None:
    """What ``oberih exchange work`` does on PostgreSQL (SQLite has processed in the request)."""
    Processor(sessions=make_session_factory(world.engine), clock=lambda: NOW).process_pending()


def install_keys(world: World, keys: SourceKeys) -> None:
    world.client.app.state.context.services[KEY_RING_SERVICE] = keys.ring  # type: ignore[attr-defined]


def test_a_signed_batch_is_accepted_processed_and_counted(world: World) -> None:
    keys = SourceKeys("border")
    install_keys(world, keys)
    with make_session_factory(world.engine)() as session, session.begin():
        register_person(session)
    body = lines(
        message("x-1", "exit", {"crossed_on": "2026-11-01", "country": "POL"}),
        "{broken",
    )
    response = world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers={**world.headers(BORDER), "X-Batch-Signature": keys.sign(body)},
    )
    assert response.status_code == 202, response.text
    drain(world)
    status_url = response.json()["status_url"]
    status = world.client.get(status_url, headers=world.headers(BORDER)).json()
    assert status["status"] == "done"
    assert status["records"] == 2
    assert status["counts"]["applied"] == 1 and status["counts"]["quarantined"] == 1

    listed = world.client.get(
        "/api/v1/exchange/quarantine", headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION")
    )
    assert listed.status_code == 200, listed.text
    [record] = listed.json()
    assert record["reason"].startswith("malformed") and record["raw"] == "{broken"
    fixed = message("x-2", "entry", {"crossed_on": "2026-11-05"})
    replay = world.client.post(
        f"/api/v1/exchange/quarantine/{record['batch_id']}/{record['position']}/replay",
        json={"corrected": fixed},
        headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
    )
    assert replay.status_code == 200, replay.text
    assert replay.json()["state"] == "applied"


def test_bad_signature_and_other_source_are_refused(world: World) -> None:
    keys = SourceKeys("border")
    install_keys(world, keys)
    body = lines(message("x-1", "exit", {"crossed_on": "2026-11-01"}))
    bad = world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers={**world.headers(BORDER), "X-Batch-Signature": keys.sign(body + b" ")},
    )
    assert bad.status_code == 422
    assert bad.json()["reason"] == "bad-signature"
    other = world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers={**world.headers(TAX), "X-Batch-Signature": keys.sign(body)},
    )
    assert other.status_code == 403
    officer = world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
    )
    assert officer.status_code == 403


def test_an_officer_decides_an_uncertain_identity(world: World) -> None:
    keys = SourceKeys("border")
    install_keys(world, keys)
    with make_session_factory(world.engine)() as session, session.begin():
        person_id = register_person(session)
    body = lines(
        message(
            "x-1", "exit", {"crossed_on": "2026-11-01"},
            surname="Гудзь", patronymic=None, sex=None,
        )
    )  # fmt: skip
    response = world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers={**world.headers(BORDER), "X-Batch-Signature": keys.sign(body)},
    )
    assert response.status_code == 202
    drain(world)
    reviews = world.client.get(
        "/api/v1/exchange/reviews", headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION")
    ).json()
    [review] = reviews
    detail = world.client.get(
        f"/api/v1/exchange/reviews/{review['review_id']}",
        headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
    ).json()
    assert detail["record"]["surname"] == "Гудзь"
    assert detail["candidates"][0]["person"]["surname"] == "Ґудзь"
    linked = world.client.post(
        f"/api/v1/exchange/reviews/{review['review_id']}/link",
        json={"person_id": str(person_id)},
        headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["state"] == "applied"
    again = world.client.post(
        f"/api/v1/exchange/reviews/{review['review_id']}/reject",
        headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
    )
    assert again.status_code == 409
    assert dt.date(2026, 11, 1)  # the crossing keeps its own day (checked in the intake tests)
