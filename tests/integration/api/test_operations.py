"""The service's operational surface: health, readiness, OpenAPI, request ids, problems, limits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from oberih.api.app import create_app
from oberih.auth.development import development_issuer
from oberih.auth.principals import Principal, Role
from oberih.config import Settings


@pytest.fixture
def client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(env="test", database_url=database_url), engine=engine)
    with TestClient(app) as client:
        yield client


def test_liveness_and_readiness(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_openapi_is_3_1_and_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert client.get("/docs").status_code == 200


def test_every_response_carries_a_request_id_and_security_headers(client: TestClient) -> None:
    response = client.get("/health/live", headers={"X-Request-ID": "abc12345-trace"})
    assert response.headers["x-request-id"] == "abc12345-trace"
    assert response.headers["x-content-type-options"] == "nosniff"
    generated = client.get("/health/live", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


def test_unknown_route_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/not-found")
    assert body["request_id"] == response.headers["x-request-id"]


def test_oversized_body_is_refused_before_reading(client: TestClient) -> None:
    response = client.post("/health/live", content=b"x" * (2 << 20))
    assert response.status_code == 413
    assert response.json()["type"].endswith("/too-large")


def test_front_page_points_to_the_verifier_and_the_api(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert 'href="/verify"' in response.text and 'href="/docs"' in response.text


@pytest.mark.parametrize(
    "unreachable",
    [
        "sqlite:///{tmp}/no-such-directory/oberih.db",
        pytest.param("postgresql://postgres@127.0.0.1:1/oberih", marks=pytest.mark.postgres),
    ],
)
def test_an_unreachable_database_is_a_503_to_retry_not_an_internal_error(
    unreachable: str, tmp_path: Path
) -> None:
    settings = Settings(
        env="test", database_url=unreachable.format(tmp=tmp_path), data_dir=tmp_path
    )
    officer = Principal(subject="officer-kyiv", role=Role.tcc_officer, office_code="TCC-UA80-01")
    token = development_issuer(settings).mint(officer, now=dt.datetime.now(dt.UTC))
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "CASE-2026-000123"}
    with TestClient(create_app(settings)) as client:
        responses = [
            client.get(f"/api/v1/persons/{uuid.uuid4()}", headers=headers),
            client.get("/api/v1/persons", params={"q": "Шевченко"}, headers=headers),
        ]
    for response in responses:
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"
        body = response.json()
        assert body["type"].endswith("/database-unavailable")
        assert body["request_id"] == response.headers["x-request-id"]
        assert "127.0.0.1" not in response.text and "sqlite" not in response.text
