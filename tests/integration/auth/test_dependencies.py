"""``require``, ``access`` and ``purpose_required`` through real HTTP, on a tiny app built here.

The register's real routes have their own tests; these pin the behaviour of the dependencies:
401 without an acceptable token, 403 (audited) without a permission or a purpose, and what a
handler receives when access is granted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from oberih.auth.dependencies import (
    Access,
    AuthServices,
    DeclaredPurpose,
    MemoryDenialRecorder,
    access,
    install_auth,
    purpose_required,
    require,
)
from oberih.auth.errors import NotAuthenticated, OutOfScope, PermissionDenied, PurposeRequired
from oberih.auth.permissions import Permission
from oberih.auth.principals import Principal
from oberih.auth.purposes import PurposePolicy
from oberih.auth.tokens import TokenVerifier
from tests.auth_support import SigningKey, claims, trusted

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
PERSON = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
KEY = SigningKey.es256(kid="it-1")


def problem_handlers(app: FastAPI) -> None:
    """The mapping the service makes in oberih.api.problems, reduced to what these tests need."""

    async def unauthenticated(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, NotAuthenticated)
        return JSONResponse(
            {"status": 401, "reason": exc.reason},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    async def denied(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PermissionDenied)
        detail = exc.detail if isinstance(exc, PurposeRequired) else str(exc)
        return JSONResponse({"status": 403, "detail": detail}, status_code=403)

    async def not_found(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"status": 404, "title": "Not found"}, status_code=404)

    app.add_exception_handler(NotAuthenticated, unauthenticated)
    app.add_exception_handler(PermissionDenied, denied)
    app.add_exception_handler(OutOfScope, not_found)


def build_app(recorder: MemoryDenialRecorder) -> FastAPI:
    app = FastAPI()
    install_auth(
        app,
        AuthServices(
            verifier=TokenVerifier([trusted(KEY)]),
            denials=recorder,
            purposes=PurposePolicy(classified_days=30),
            clock=lambda: NOW,
        ),
    )
    problem_handlers(app)

    @app.get("/persons/{person_id}")
    def read_person(
        person_id: uuid.UUID,
        granted: Annotated[Access, Depends(access(Permission.person_record_read))],
    ) -> dict[str, Any]:
        purpose = granted.purpose
        return {
            "actor": granted.principal.actor,
            "purpose": purpose.code if purpose else None,
            "classified_until": purpose.classified_until if purpose else None,
            "nationwide": granted.scope.is_nationwide,
            "event_action": granted.event(person_id=person_id).action,
        }

    @app.get("/audit")
    def read_audit(
        principal: Annotated[Principal, Depends(require(Permission.audit_read))],
    ) -> dict[str, str]:
        return {"actor": principal.actor}

    @app.get("/why")
    def why(purpose: DeclaredPurpose) -> dict[str, str | None]:
        return {"purpose": purpose.code if purpose else None}

    @app.post("/exchange/{source}/batches")
    def submit(
        source: str, granted: Annotated[Access, Depends(access(Permission.exchange_submit))]
    ) -> dict[str, str]:
        granted.ensure_own_source(source)
        return {"accepted": source}

    return app


@pytest.fixture
def recorder() -> MemoryDenialRecorder:
    return MemoryDenialRecorder()


@pytest.fixture
def client(recorder: MemoryDenialRecorder) -> Iterator[TestClient]:
    with TestClient(build_app(recorder)) as test_client:
        yield test_client


def bearer(extra: dict[str, Any] | None = None, **options: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY.sign(claims(extra, **options))}"}


CITIZEN = {"sub": "citizen-1", "oberih_role": "citizen", "oberih_person": str(PERSON)}
AUDITOR = {"sub": "auditor-1", "oberih_role": "auditor"}
TAX = {"sub": "tax-gw", "oberih_role": "source_register", "oberih_source": "tax"}
NOT_AN_OFFICER = ("oberih_office",)


# --- 401 ---------------------------------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(
    client: TestClient, recorder: MemoryDenialRecorder
) -> None:
    response = client.get(f"/persons/{PERSON}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["reason"] == "missing"
    assert recorder.denials == []  # anonymous failures are logged, not audited


@pytest.mark.parametrize(
    "authorization", ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer", "bearer x.y.z"]
)
def test_an_unacceptable_authorization_is_401(client: TestClient, authorization: str) -> None:
    response = client.get(f"/persons/{PERSON}", headers={"Authorization": authorization})
    assert response.status_code == 401


def test_an_expired_token_is_401(client: TestClient) -> None:
    response = client.get("/audit", headers=bearer(AUDITOR, issued=0, drop=NOT_AN_OFFICER))
    assert (response.status_code, response.json()["reason"]) == (401, "expired")


# --- 403 ---------------------------------------------------------------------------------------


def test_a_role_without_the_permission_is_403_and_audited(
    client: TestClient, recorder: MemoryDenialRecorder
) -> None:
    response = client.get(f"/persons/{PERSON}", headers=bearer(AUDITOR, drop=NOT_AN_OFFICER))
    assert response.status_code == 403
    assert "person:record:read" in response.json()["detail"]
    [denial] = recorder.denials
    assert denial.attempted == "person:record:read"
    assert denial.reason == "permission"
    assert denial.principal.actor == "auditor:auditor-1"
    assert denial.person_id == PERSON  # the citizen will see that someone tried


def test_an_officer_without_a_purpose_is_403_and_audited(
    client: TestClient, recorder: MemoryDenialRecorder
) -> None:
    response = client.get(f"/persons/{PERSON}", headers=bearer())
    assert response.status_code == 403
    assert "CASE-2026-000123" in response.json()["detail"]
    [denial] = recorder.denials
    assert (denial.attempted, denial.reason, denial.person_id) == (
        "person:record:read",
        "purpose",
        PERSON,
    )


def test_two_different_purposes_are_refused(client: TestClient) -> None:
    headers = {**bearer(), "X-Purpose": "CASE-2026-000001"}
    response = client.get(f"/persons/{PERSON}?purpose=CASE-2026-000002", headers=headers)
    assert response.status_code == 403


def test_a_source_register_submits_only_its_own_feed(
    client: TestClient, recorder: MemoryDenialRecorder
) -> None:
    headers = bearer(TAX, drop=NOT_AN_OFFICER)
    assert client.post("/exchange/tax/batches", headers=headers).json() == {"accepted": "tax"}
    assert client.post("/exchange/border/batches", headers=headers).status_code == 403
    [denial] = recorder.denials
    assert (denial.attempted, denial.reason) == ("exchange:submit", "other-source")


# --- granted -----------------------------------------------------------------------------------


def test_an_officer_reads_with_a_purpose_header(client: TestClient) -> None:
    headers = {**bearer(), "X-Purpose": "CASE-2026-000123"}
    body = client.get(f"/persons/{PERSON}", headers=headers).json()
    assert body == {
        "actor": "tcc_officer:officer-17",
        "purpose": "CASE-2026-000123",
        "classified_until": None,
        "nationwide": False,
        "event_action": "person:record:read",
    }


def test_a_purpose_may_come_as_a_query_parameter_and_be_classified(client: TestClient) -> None:
    response = client.get(
        f"/persons/{PERSON}", params={"purpose": "classified:CASE-2026-000123"}, headers=bearer()
    )
    assert response.status_code == 200
    assert response.json()["classified_until"] == "2026-03-31"  # NOW + 30 days


def test_a_citizen_reads_without_a_purpose(client: TestClient) -> None:
    body = client.get(f"/persons/{PERSON}", headers=bearer(CITIZEN, drop=NOT_AN_OFFICER)).json()
    assert (body["actor"], body["purpose"]) == ("citizen:citizen-1", None)


def test_purpose_required_alone_asks_only_officers(client: TestClient) -> None:
    assert client.get("/why", headers=bearer()).status_code == 403
    officer = client.get("/why", headers={**bearer(), "X-Purpose": "NOTICE-DELIVERY"})
    assert officer.json() == {"purpose": "NOTICE-DELIVERY"}
    citizen = client.get("/why", headers=bearer(CITIZEN, drop=NOT_AN_OFFICER))
    assert citizen.json() == {"purpose": None}


def test_require_returns_the_principal(client: TestClient) -> None:
    response = client.get("/audit", headers=bearer(AUDITOR, drop=NOT_AN_OFFICER))
    assert response.json() == {"actor": "auditor:auditor-1"}


def test_openapi_declares_the_bearer_scheme_and_the_purpose(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    parameters = {
        parameter["name"]
        for parameter in document["paths"]["/persons/{person_id}"]["get"]["parameters"]
    }
    assert {"X-Purpose", "purpose", "person_id"} <= parameters


def test_require_needs_a_permission() -> None:
    with pytest.raises(ValueError):
        require()


def test_purpose_required_is_a_plain_dependency() -> None:
    # Routes may use it on its own (Depends(purpose_required)) next to require(...).
    assert callable(purpose_required)
