"""``oberih keys`` and ``oberih doc verify`` with files only (no network, no database)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from oberih.cli.app import app
from oberih.documents import issue, qr_png
from oberih.documents.keys import Keyring, init_keyring
from oberih.documents.signed_lists import RevocationPartition, sign_revocation_list
from oberih.documents.trust import revocation_hash
from tests.unit.documents.factories import make_claims, make_signer

T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=2)
runner = CliRunner()


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return init_keyring(tmp_path / "keys", now=T0)


def _files(keyring: Keyring, tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "root.pem"
    root.write_bytes(
        x509.load_der_x509_certificate(keyring.root_certificate_der).public_bytes(
            serialization.Encoding.PEM
        )
    )
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(keyring.trust_list()))
    return {"root": root, "trust": trust}


def _issue(keyring: Keyring) -> tuple[str, str]:
    claims = make_claims(issued_at=T0 + dt.timedelta(days=1), expires_at=T0 + dt.timedelta(days=90))
    signer = keyring.signer_for(issued_at=claims.issued_at, expires_at=claims.expires_at)
    return signer.issue(claims), str(claims.document_id)


def _verify(*args: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["doc", "verify", *args])
    return result.exit_code, json.loads(result.stdout)


def test_verify_a_code_and_a_picture_of_its_qr_offline(keyring: Keyring, tmp_path: Path) -> None:
    files = _files(keyring, tmp_path)
    code, _ = _issue(keyring)
    options = ["--trust-list", str(files["trust"]), "--trust-cert", str(files["root"])]
    status, verdict = _verify(code, *options)
    assert status == 0 and verdict["valid"] is True and verdict["reason"] == "ok"
    assert isinstance(verdict["claims"], dict) and verdict["claims"]["surname"] == "Шевчук"
    picture = tmp_path / "qr.png"
    picture.write_bytes(qr_png(code))
    assert _verify(str(picture), *options)[1]["reason"] == "ok"
    later = (T0 + dt.timedelta(days=91)).isoformat()
    assert _verify(code, *options, "--at", later) == (1, _verify(code, *options, "--at", later)[1])
    assert _verify(code, *options, "--at", later)[1]["reason"] == "expired"


def test_verify_with_a_revocation_list_file(keyring: Keyring, tmp_path: Path) -> None:
    files = _files(keyring, tmp_path)
    code, document_id = _issue(keyring)
    signer = keyring.signer_for(
        issued_at=T0 + dt.timedelta(days=1), expires_at=T0 + dt.timedelta(days=2)
    )
    revocations = tmp_path / "revocations.json"
    listed = sign_revocation_list(
        [RevocationPartition(kid=signer.kid, hashes=[revocation_hash(document_id)])],
        version=1,
        since=0,
        generated_at=T0,
        signer_key=signer.private_key,
        signer_kid=signer.kid,
    )
    revocations.write_text(json.dumps(listed))
    status, verdict = _verify(
        code,
        "--trust-list",
        str(files["trust"]),
        "--trust-cert",
        str(files["root"]),
        "--revocations",
        str(revocations),
    )
    assert (status, verdict["reason"], verdict["claims"]) == (1, "revoked", None)


def test_a_signer_certificate_can_be_trusted_directly(tmp_path: Path) -> None:
    signer = make_signer(
        not_before=T0 - dt.timedelta(days=1), not_after=T0 + dt.timedelta(days=400)
    )
    pem = tmp_path / "signer.pem"
    pem.write_bytes(
        x509.load_der_x509_certificate(signer.certificate_der).public_bytes(
            serialization.Encoding.PEM
        )
    )
    claims = make_claims(issued_at=T0, expires_at=T0 + dt.timedelta(days=30))
    code = issue(claims, signer_key=signer.key, signer_cert_der=signer.certificate_der)
    assert _verify(code, "--trust-cert", str(pem))[1]["reason"] == "ok"
    other = init_keyring(tmp_path / "other", now=T0)
    files = _files(other, tmp_path)
    assert (
        _verify(code, "--trust-list", str(files["trust"]), "--trust-cert", str(files["root"]))[1][
            "reason"
        ]
        == "unknown_key"
    )
    assert _verify("not a code", "--trust-cert", str(pem))[1]["reason"] == "malformed"


def test_keys_commands(tmp_path: Path) -> None:
    directory = str(tmp_path / "keys")
    assert runner.invoke(app, ["keys", "init", "--dir", directory]).exit_code == 0
    rotated = json.loads(runner.invoke(app, ["keys", "rotate", "--dir", directory]).stdout)
    first = rotated["signers"][0]["kid"]
    retired = runner.invoke(app, ["keys", "retire", first, "--dir", directory])
    assert retired.exit_code == 0
    listed = json.loads(runner.invoke(app, ["keys", "list", "--dir", directory]).stdout)
    assert [s["status"] for s in listed["signers"]] == ["retired", "active"]
    assert runner.invoke(app, ["keys", "init", "--dir", directory]).exit_code == 2
