"""``oberih audit verify | checkpoint | key`` on both engines, with a production key file."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from oberih.audit.checkpoints import parse_verifier_key, verify_checkpoint
from oberih.audit.cli import app
from oberih.audit.models import AuditEventRow
from oberih.audit.signing import AuditSigner
from tests.integration.audit.conftest import ORIGIN, attacker, record_log

runner = CliRunner()


@pytest.fixture
def key(tmp_path: Path) -> tuple[Path, AuditSigner]:
    private_key = Ed25519PrivateKey.generate()
    path = tmp_path / "audit.pem"
    path.write_bytes(private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    path.chmod(0o600)
    return path, AuditSigner(private_key, origin=ORIGIN)


def invoke(database_url: str, key_file: Path | None, *args: str) -> tuple[int, str]:
    env = {"OBERIH_ENV": "production", "OBERIH_AUDIT_ORIGIN": ORIGIN}
    if key_file is not None:
        env["OBERIH_AUDIT_KEY_FILE"] = str(key_file)
    result = runner.invoke(app, [*args, "--database-url", database_url], env=env)
    return result.exit_code, result.output


def test_checkpoint_signs_and_prints_the_note(
    session: Session, database_url: str, key: tuple[Path, AuditSigner]
) -> None:
    path, signer = key
    record_log(session, signer, events=4)
    code, output = invoke(database_url, path, "checkpoint")
    assert code == 0, output
    checkpoint = verify_checkpoint(output, key_name=ORIGIN, public_key=signer.public_key)
    assert checkpoint.tree_size == 4


def test_verify_passes_on_an_intact_log(
    session: Session, database_url: str, key: tuple[Path, AuditSigner]
) -> None:
    path, signer = key
    record_log(session, signer, events=6, checkpoints=[3, 6])
    code, output = invoke(database_url, path, "verify")
    assert code == 0, output
    assert "audit log intact: 6 events, 2 signed checkpoints" in output


def test_verify_fails_and_names_the_tampered_event(
    session: Session,
    engine: Engine,
    database_url: str,
    key: tuple[Path, AuditSigner],
    tmp_path: Path,
) -> None:
    path, signer = key
    record_log(session, signer, events=6, checkpoints=[6])
    published = tmp_path / "checkpoint-6.txt"
    published.write_text(invoke(database_url, path, "checkpoint")[1])
    with attacker(engine) as connection:
        connection.execute(
            update(AuditEventRow.__table__)
            .where(AuditEventRow.leaf_index == 3)
            .values(outcome="denied")
        )
    # An auditor with only the public key and a published checkpoint.
    verifier_key = signer.verifier_key
    code, output = invoke(
        database_url, None, "verify", "--verifier-key", verifier_key, "--checkpoint", str(published)
    )
    assert code == 1
    assert "TAMPERED changed at event 3" in output


def test_key_prints_the_public_verifier_key(key: tuple[Path, AuditSigner]) -> None:
    path, signer = key
    result = runner.invoke(
        app,
        ["key"],
        env={
            "OBERIH_ENV": "production",
            "OBERIH_AUDIT_KEY_FILE": str(path),
            "OBERIH_AUDIT_ORIGIN": ORIGIN,
        },
    )
    assert result.exit_code == 0
    assert parse_verifier_key(result.output.strip()).public_key == signer.verifier().public_key
    assert result.output.strip() == signer.verifier_key


def test_without_a_key_outside_development_the_commands_refuse(database_url: str) -> None:
    code, output = invoke(database_url, None, "verify")
    assert code == 2
    assert "OBERIH_AUDIT_KEY_FILE" in output


def test_a_malformed_verifier_key_is_a_usage_error(database_url: str) -> None:
    code, output = invoke(database_url, None, "verify", "--verifier-key", "nonsense")
    assert code == 2
    assert "verifier-key" in output
