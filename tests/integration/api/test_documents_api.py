"""Documents over HTTP: issue from the register, print, publish the lists, verify online and
offline, and revoke automatically when a claim changes (both engines)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from oberih.auth.principals import Principal, Role
from oberih.cli.app import app
from oberih.db.engine import make_session_factory
from oberih.documents import InMemoryTrustStore, Reason, issue, verify
from oberih.documents.codec import decode_code, encode_code
from oberih.documents.signed_lists import read_revocation_list, read_trust_list, trust_store_of
from oberih.persons.facts import FactKind
from oberih.persons.services import append_facts
from tests.factories import new_fact
from tests.integration.api.conftest import (
    NOW,
    OFFICER_KYIV,
    PURPOSE,
    World,
    citizen,
)
from tests.unit.documents.factories import make_claims, make_signer

VERIFIER = Principal(subject="police-1", role=Role.verifier)
DOCUMENTS = "/api/v1/documents"


def _issue_own(world: World, person_id: uuid.UUID) -> dict[str, Any]:
    response = world.client.post("/api/v1/me/documents", headers=world.headers(citizen(person_id)))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _offline_lists(world: World) -> tuple[InMemoryTrustStore, Any]:
    """What an offline verifier downloads: root certificate, trust list, revocations."""
    pem = world.client.get(f"{DOCUMENTS}/root-certificate").content
    root_der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    listed = world.client.get(f"{DOCUMENTS}/trust-list", params={"download": True})
    assert listed.headers["content-disposition"].startswith("attachment")
    trust = trust_store_of(read_trust_list(listed.json(), root_certificate_der=root_der))
    revoked = read_revocation_list(world.client.get(f"{DOCUMENTS}/revocations").json(), trust=trust)
    return trust, revoked


def _verify_online(world: World, code: str) -> dict[str, Any]:
    response = world.client.post(
        f"{DOCUMENTS}/verify", json={"code": code}, headers=world.headers(VERIFIER)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _change_rank(world: World, person_id: uuid.UUID, rank: str) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    url = f"/api/v1/persons/{person_id}"
    etag = world.client.get(url, headers=headers).headers["etag"]
    command = {
        "kind": "military_registration",
        "payload": {"category": "liable", "office_code": "TCC-UA80-01", "rank": rank},
        "legal_basis": "Res. 1487",
    }
    changed = world.client.post(f"{url}/facts", json=command, headers={**headers, "If-Match": etag})
    assert changed.status_code == 201, changed.text


def test_a_citizen_issues_their_document_and_it_verifies_offline_and_online(world: World) -> None:
    document = _issue_own(world, world.kyiv_person)
    claims = document["claims"]
    assert claims["surname"] == "Шевченко" and claims["surname_latin"] == "Shevchenko"
    assert claims["category"] == "liable" and claims["rank"] == "солдат"
    expires = dt.datetime.fromisoformat(document["expires_at"])
    assert NOW < expires <= NOW + dt.timedelta(days=366)
    assert document["qr_version"] <= 20
    trust, revoked = _offline_lists(world)
    verdict = verify(document["code"], trust=trust, revoked=revoked, at=NOW)
    assert verdict.reason is Reason.ok
    online = _verify_online(world, document["code"])
    assert online == {**online, "valid": True, "reason": "ok"}
    assert online["claims"]["document_id"] == document["document_id"]


def test_expiry_never_passes_the_reservation_shown(world: World) -> None:
    document = _issue_own(world, world.employee)
    deferral = document["claims"]["deferral"]
    assert deferral["kind"] == "reservation" and deferral["ground"] == "00000017"
    until = dt.date.fromisoformat(deferral["valid_until"])
    assert dt.datetime.fromisoformat(document["expires_at"]).date() <= until


def test_an_officer_issues_in_their_area_only(world: World) -> None:
    headers = world.headers(OFFICER_KYIV, purpose=PURPOSE)
    mine = world.client.post(f"/api/v1/persons/{world.kyiv_person}/documents", headers=headers)
    assert mine.status_code == 201
    other = world.client.post(f"/api/v1/persons/{world.lviv_person}/documents", headers=headers)
    assert other.status_code == 404
    verifier = world.client.post(
        f"/api/v1/persons/{world.kyiv_person}/documents", headers=world.headers(VERIFIER)
    )
    assert verifier.status_code == 403


def test_outputs_png_svg_and_pdf_card(world: World) -> None:
    document = _issue_own(world, world.kyiv_person)
    headers = world.headers(citizen(world.kyiv_person))
    png = world.client.get(document["links"]["png"], headers=headers)
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = world.client.get(document["links"]["svg"], headers=headers)
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    pdf = world.client.get(document["links"]["pdf"], headers=headers)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    stranger = world.client.get(
        document["links"]["pdf"], headers=world.headers(citizen(world.lviv_person))
    )
    assert stranger.status_code == 404


def test_a_changed_claim_revokes_the_document_and_a_new_one_can_be_issued(world: World) -> None:
    document = _issue_own(world, world.kyiv_person)
    _change_rank(world, world.kyiv_person, "сержант")
    listed = world.client.get(
        f"/api/v1/persons/{world.kyiv_person}/documents",
        headers=world.headers(citizen(world.kyiv_person)),
    ).json()
    assert listed[0]["revocation_reason"] == "data_changed: rank"
    trust, revoked = _offline_lists(world)
    offline = verify(document["code"], trust=trust, revoked=revoked, at=NOW)
    assert offline.reason is Reason.revoked
    assert _verify_online(world, document["code"])["reason"] == "revoked"
    renewed = _issue_own(world, world.kyiv_person)
    assert renewed["claims"]["rank"] == "сержант"
    assert _verify_online(world, renewed["code"])["reason"] == "ok"


def test_a_change_outside_the_claims_keeps_the_document(world: World) -> None:
    document = _issue_own(world, world.kyiv_person)
    headers = world.headers(citizen(world.kyiv_person))
    etag = world.client.get("/api/v1/me", headers=headers).headers["etag"]
    changed = world.client.put(
        "/api/v1/me/contacts",
        json={"phone": "+380671112233"},
        headers={**headers, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert _verify_online(world, document["code"])["reason"] == "ok"


def test_revocations_update_incrementally(world: World) -> None:
    first = world.client.get(f"{DOCUMENTS}/revocations").json()["revocations"]
    _issue_own(world, world.kyiv_person)
    _change_rank(world, world.kyiv_person, "сержант")
    update = world.client.get(
        f"{DOCUMENTS}/revocations", params={"since": first["version"]}
    ).json()["revocations"]
    assert update["version"] == first["version"] + 1
    assert sum(len(p["hashes"]) for p in update["partitions"]) == 1
    nothing_new = world.client.get(
        f"{DOCUMENTS}/revocations", params={"since": update["version"]}
    ).json()["revocations"]
    assert nothing_new["partitions"] == []


def _flip(code: str, index: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    return code[:index] + alphabet[(alphabet.index(code[index]) + 1) % 45] + code[index + 1 :]


def _swap_signature(code: str, other: str) -> str:
    context, cose = decode_code(code)
    _, other_cose = decode_code(other)
    protected, unprotected, payload, _signature = cbor2.loads(cose).value
    signature = cbor2.loads(other_cose).value[3]
    swapped = cbor2.CBORTag(18, [protected, unprotected, payload, signature])
    return encode_code(context, cbor2.dumps(swapped))


def test_the_checks(world: World) -> None:
    """Issue then verify is ok; each attack or lapse gives its reason."""
    document = _issue_own(world, world.kyiv_person)
    code = document["code"]
    other = _issue_own(world, world.lviv_person)["code"]
    trust, revoked = _offline_lists(world)

    def offline(candidate: str, at: dt.datetime = NOW) -> Reason:
        return verify(candidate, trust=trust, revoked=revoked, at=at).reason

    assert offline(code) is Reason.ok
    changed = {offline(_flip(code, i)) for i in range(4, len(code), max(1, len(code) // 40))}
    assert Reason.ok not in changed and changed <= {Reason.malformed, Reason.bad_signature}
    assert _verify_online(world, _flip(code, len(code) // 2))["valid"] is False
    assert offline(_swap_signature(code, other)) is Reason.bad_signature
    assert _verify_online(world, _swap_signature(code, other))["reason"] == "bad_signature"
    stranger = make_signer()
    forged = stranger.key
    unknown = issue(
        make_claims(issued_at=NOW, expires_at=NOW + dt.timedelta(days=30)),
        signer_key=forged,
        signer_cert_der=stranger.certificate_der,
    )
    assert offline(unknown) is Reason.unknown_key
    assert _verify_online(world, unknown)["reason"] == "unknown_key"
    expires = dt.datetime.fromisoformat(document["expires_at"])
    assert offline(code, expires + dt.timedelta(seconds=1)) is Reason.expired
    assert offline(code, NOW - dt.timedelta(days=1)) is Reason.not_yet_valid


@pytest.mark.parametrize("download", [True, False])
def test_lists_are_public(world: World, download: bool) -> None:
    listed = world.client.get(f"{DOCUMENTS}/trust-list", params={"download": download})
    assert listed.status_code == 200
    signers = listed.json()["trust_list"]["signers"]
    assert signers and all(base64.b64decode(s["certificate"]) for s in signers)
    assert world.client.get(f"{DOCUMENTS}/revocations").status_code == 200


def test_online_verification_needs_the_verifier_permission(world: World) -> None:
    document = _issue_own(world, world.kyiv_person)
    response = world.client.post(
        f"{DOCUMENTS}/verify",
        json={"code": document["code"]},
        headers=world.headers(citizen(world.kyiv_person)),
    )
    assert response.status_code == 403


def test_a_change_made_without_the_hook_is_caught_online_and_published(world: World) -> None:
    """A writer of facts that forgot revoke_stale_documents: online verification still sees
    that the claims no longer hold, and revokes the document for offline verifiers too."""
    document = _issue_own(world, world.kyiv_person)
    with make_session_factory(world.engine)() as session:
        append_facts(
            session,
            person_id=world.kyiv_person,
            facts=[
                new_fact(
                    FactKind.military_registration,
                    {"category": "liable", "office_code": "TCC-UA80-01", "rank": "сержант"},
                    source="register",
                    valid_from=NOW.date(),
                )
            ],
            now=NOW,
        )
        session.commit()
    trust, revoked = _offline_lists(world)
    assert verify(document["code"], trust=trust, revoked=revoked, at=NOW).reason is Reason.ok
    assert _verify_online(world, document["code"])["reason"] == "revoked"
    trust, revoked = _offline_lists(world)
    assert verify(document["code"], trust=trust, revoked=revoked, at=NOW).reason is Reason.revoked


def test_the_daily_sweep_revokes_what_no_hook_revoked(world: World) -> None:
    document = _issue_own(world, world.kyiv_person)
    kept = _issue_own(world, world.lviv_person)
    with make_session_factory(world.engine)() as session:
        append_facts(
            session,
            person_id=world.kyiv_person,
            facts=[
                new_fact(
                    FactKind.military_registration,
                    {"category": "liable", "office_code": "TCC-UA80-01", "rank": "сержант"},
                    source="register",
                    valid_from=NOW.date(),
                )
            ],
            now=NOW,
        )
        session.commit()
    result = CliRunner().invoke(
        app,
        [
            "doc",
            "sweep",
            "--database-url",
            world.settings.database_url,
            "--at",
            NOW.isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    revoked = json.loads(result.stdout)["revoked"]
    assert revoked == [{"document_id": document["document_id"], "reason": "data_changed: rank"}]
    assert _verify_online(world, kept["code"])["reason"] == "ok"
