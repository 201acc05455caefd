"""The audit routes through real HTTP: proofs that verify, checkpoints, and "who saw my data"."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from oberih.api.app import create_app
from oberih.audit.checkpoints import verify_checkpoint
from oberih.audit.merkle import verify_consistency, verify_inclusion
from oberih.audit.services import get_event, record_event, tree_head
from oberih.audit.signing import AuditSigner
from oberih.auth.development import development_issuer
from oberih.auth.principals import Principal, Role
from oberih.config import Environment, Settings
from tests.audit_support import sequence_everything
from tests.integration.audit.conftest import ORIGIN, moment, record_log
from tests.unit.audit.factories import PERSON, audit_event

NOW = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
AUDITOR = Principal(subject="auditor-1", role=Role.auditor)
CITIZEN = Principal(subject="citizen-1", role=Role.citizen, person_id=PERSON)
OFFICER = Principal(subject="officer-1", role=Role.tcc_officer, office_code="TCC-UA46-03")
Bearer = Callable[[Principal], dict[str, str]]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(env=Environment.test, database_url=database_url, data_dir=tmp_path)


@pytest.fixture
def client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine, clock=lambda: NOW)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def bearer(settings: Settings) -> Bearer:
    issuer = development_issuer(settings)

    def headers(principal: Principal) -> dict[str, str]:
        # Tokens are checked against the real clock (PyJWT), the register against NOW.
        token = issuer.mint(principal, now=dt.datetime.now(dt.UTC))
        return {"Authorization": f"Bearer {token}"}

    return headers


def unb64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(value) for value in values]


def test_latest_checkpoint_as_json_and_as_signed_note(
    client: TestClient, bearer: Bearer, session: Session, signer: AuditSigner
) -> None:
    assert client.get("/api/v1/audit/checkpoint", headers=bearer(AUDITOR)).status_code == 404
    record_log(session, signer, events=5, checkpoints=[3, 5])
    response = client.get("/api/v1/audit/checkpoint", headers=bearer(AUDITOR))
    assert response.status_code == 200
    body = response.json()
    assert (body["origin"], body["tree_size"]) == (ORIGIN, 5)
    checkpoint = verify_checkpoint(
        body["note"], key_name=signer.key_name, public_key=signer.public_key
    )
    assert base64.b64encode(checkpoint.root_hash).decode() == body["root_hash"]
    note = client.get("/api/v1/audit/checkpoint/note", headers=bearer(AUDITOR))
    assert note.headers["content-type"].startswith("text/plain")
    assert note.text == body["note"]


def test_inclusion_proof_verifies_against_the_signed_root(
    client: TestClient, bearer: Bearer, session: Session, signer: AuditSigner
) -> None:
    record_log(session, signer, events=9, checkpoints=[9])
    root = tree_head(session).root_hash
    for index in (0, 4, 8):
        response = client.get(
            "/api/v1/audit/proofs/inclusion",
            params={"index": index, "tree_size": 9},
            headers=bearer(AUDITOR),
        )
        assert response.status_code == 200
        body = response.json()
        verify_inclusion(
            leaf_hash=base64.b64decode(body["leaf_hash"]),
            index=index,
            tree_size=9,
            proof=unb64(body["hashes"]),
            root=root,
        )


def test_consistency_proof_verifies_between_sizes(
    client: TestClient, bearer: Bearer, session: Session, signer: AuditSigner
) -> None:
    record_log(session, signer, events=3)
    old_root = tree_head(session).root_hash
    record_log(session, signer, events=4)  # seven events in all
    response = client.get(
        "/api/v1/audit/proofs/consistency",
        params={"old_size": 3, "new_size": 7},
        headers=bearer(AUDITOR),
    )
    assert response.status_code == 200
    verify_consistency(
        old_size=3,
        new_size=7,
        proof=unb64(response.json()["hashes"]),
        old_root=old_root,
        new_root=tree_head(session).root_hash,
    )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/audit/proofs/inclusion", {"index": 3, "tree_size": 3}),
        ("/api/v1/audit/proofs/inclusion", {"index": 0, "tree_size": 99}),
        ("/api/v1/audit/proofs/consistency", {"old_size": 3, "new_size": 2}),
        ("/api/v1/audit/proofs/consistency", {"old_size": 0, "new_size": 2}),
    ],
)
def test_proofs_outside_the_log_are_422(
    client: TestClient,
    bearer: Bearer,
    session: Session,
    signer: AuditSigner,
    path: str,
    params: dict[str, int],
) -> None:
    record_log(session, signer, events=3)
    response = client.get(path, params=params, headers=bearer(AUDITOR))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_reading_an_event_is_itself_audited(
    client: TestClient, bearer: Bearer, session: Session, signer: AuditSigner
) -> None:
    record_log(session, signer, events=2)
    response = client.get("/api/v1/audit/events/1", headers=bearer(AUDITOR))
    assert response.status_code == 200
    assert response.json()["request_id"] == "req-1"
    assert response.json()["person_id"] == str(PERSON)
    sequence_everything(session.get_bind())  # the read's event waits in the inbox until then
    session.expire_all()
    trace = get_event(session, 2)
    assert (trace.event.action, trace.event.actor) == ("audit:event:read", "auditor:auditor-1")
    assert trace.event.person_id == PERSON
    assert client.get("/api/v1/audit/events/99", headers=bearer(AUDITOR)).status_code == 404


def test_citizen_sees_who_saw_their_data_but_not_the_officials_identity(
    client: TestClient, bearer: Bearer, session: Session
) -> None:
    record_event(session, audit_event(0), now=moment(0))
    record_event(session, audit_event(1, person_id=uuid.uuid4()), now=moment(1))
    record_event(session, audit_event(2, classified_until=dt.date(2026, 12, 31)), now=moment(2))
    record_event(session, audit_event(3, classified_until=dt.date(2027, 1, 2)), now=moment(3))
    session.commit()
    response = client.get("/api/v1/me/accesses", headers=bearer(CITIZEN))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["index"] for item in items] == [2, 0]  # 3 is still classified on NOW
    assert items[1] == {
        "index": 0,
        "recorded_at": "2026-03-01T12:00:00Z",
        "role": "tcc_officer",
        "office_code": "TCC-UA46-03",
        "purpose": "case 2026/17",
        "action": "person:record:read",
        "fields": ["surname", "birth_date"],
        "outcome": "allowed",
    }


def test_accesses_are_paged_by_an_opaque_cursor(
    client: TestClient, bearer: Bearer, session: Session
) -> None:
    for number in range(5):
        record_event(session, audit_event(number), now=moment(number))
    session.commit()
    first = client.get("/api/v1/me/accesses", params={"limit": 2}, headers=bearer(CITIZEN))
    cursor = first.json()["next_cursor"]
    rest = client.get(
        "/api/v1/me/accesses", params={"limit": 5, "cursor": cursor}, headers=bearer(CITIZEN)
    )
    assert [item["index"] for item in first.json()["items"]] == [4, 3]
    assert [item["index"] for item in rest.json()["items"]] == [2, 1, 0]
    assert rest.json()["next_cursor"] is None
    bad = client.get("/api/v1/me/accesses", params={"cursor": "x"}, headers=bearer(CITIZEN))
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/api/v1/audit/checkpoint", CITIZEN),
        ("/api/v1/audit/proofs/consistency?old_size=1&new_size=1", OFFICER),
        ("/api/v1/audit/events/0", CITIZEN),
        ("/api/v1/me/accesses", AUDITOR),
        ("/api/v1/me/accesses", OFFICER),
    ],
)
def test_roles_without_the_permission_are_refused(
    client: TestClient, bearer: Bearer, path: str, who: Principal
) -> None:
    assert client.get(path, headers=bearer(who)).status_code == 403
    assert client.get(path).status_code == 401
