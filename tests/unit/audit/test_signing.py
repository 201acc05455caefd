from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from pydantic import ValidationError

from oberih.audit.checkpoints import parse_verifier_key, verify_checkpoint
from oberih.audit.merkle import EMPTY_ROOT
from oberih.audit.signing import (
    AuditKeyError,
    AuditSettings,
    AuditSigner,
    load_audit_signer,
    write_new_key_file,
)
from oberih.config import Environment, Settings

ORIGIN = "oberih.test/audit"


def settings(env: Environment) -> Settings:
    return Settings(env=env, database_url="sqlite://")


def audit_settings(tmp_path: Path, key_file: Path | None = None) -> AuditSettings:
    return AuditSettings(
        key_file=key_file, origin=ORIGIN, development_key_file=tmp_path / "dev" / "key.pem"
    )


def write_key(path: Path, key: object, mode: int) -> bytes:
    pem: bytes = key.private_bytes(  # type: ignore[attr-defined]
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(mode)
    return pem


def test_production_requires_a_key_file(tmp_path: Path) -> None:
    with pytest.raises(AuditKeyError, match="OBERIH_AUDIT_KEY_FILE"):
        load_audit_signer(settings(Environment.production), audit_settings(tmp_path))


def test_production_refuses_a_key_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "audit.pem"
    pem = write_key(path, Ed25519PrivateKey.generate(), 0o644)
    with pytest.raises(AuditKeyError, match="group or others") as raised:
        load_audit_signer(settings(Environment.production), audit_settings(tmp_path, path))
    assert pem.decode() not in str(raised.value)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_production_refuses_any_group_or_world_access(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "audit.pem"
    write_key(path, Ed25519PrivateKey.generate(), mode)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        load_audit_signer(settings(Environment.production), audit_settings(tmp_path, path))


def test_production_loads_a_private_key_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.pem"
    key = Ed25519PrivateKey.generate()
    write_key(path, key, 0o600)
    signer = load_audit_signer(settings(Environment.production), audit_settings(tmp_path, path))
    note = signer.sign_checkpoint(tree_size=0, root_hash=EMPTY_ROOT)
    checkpoint = verify_checkpoint(
        note, key_name=ORIGIN, public_key=key.public_key(), origin=ORIGIN
    )
    assert checkpoint.tree_size == 0
    assert parse_verifier_key(signer.verifier_key).key_id == signer.verifier().key_id


def test_development_generates_a_private_key_once(tmp_path: Path) -> None:
    development = settings(Environment.development)
    first = load_audit_signer(development, audit_settings(tmp_path))
    key_file = tmp_path / "dev" / "key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    second = load_audit_signer(development, audit_settings(tmp_path))
    assert first.verifier_key == second.verifier_key


def test_development_accepts_a_loose_key_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.pem"
    write_key(path, Ed25519PrivateKey.generate(), 0o644)
    load_audit_signer(settings(Environment.development), audit_settings(tmp_path, path))


def test_new_key_file_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("existing")
    with pytest.raises(FileExistsError):
        write_new_key_file(path)
    assert path.read_text() == "existing"


def test_a_non_pem_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "audit.pem"
    path.write_text("SECRET-MATERIAL")
    path.chmod(0o600)
    with pytest.raises(AuditKeyError, match="not an unencrypted PEM") as raised:
        load_audit_signer(settings(Environment.production), audit_settings(tmp_path, path))
    assert "SECRET-MATERIAL" not in str(raised.value)


def test_a_key_of_another_algorithm_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.pem"
    write_key(path, ec.generate_private_key(ec.SECP256R1()), 0o600)
    with pytest.raises(AuditKeyError, match="Ed25519"):
        load_audit_signer(settings(Environment.production), audit_settings(tmp_path, path))


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.pem"
    with pytest.raises(AuditKeyError, match=r"absent\.pem"):
        load_audit_signer(settings(Environment.production), audit_settings(tmp_path, path))


def test_repr_shows_no_key_material() -> None:
    key = Ed25519PrivateKey.generate()
    signer = AuditSigner(key, origin=ORIGIN)
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    text = repr(signer)
    assert signer.key_id_hex in text
    assert raw.hex() not in text
    assert base64.b64encode(raw).decode() not in text


def test_origin_must_be_a_key_name() -> None:
    with pytest.raises(ValidationError, match="without spaces"):
        AuditSettings(origin="oberih audit")


def test_development_key_defaults_to_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'oberih.db'}"
    development = Settings(env=Environment.development, database_url=url)
    load_audit_signer(development, AuditSettings(origin=ORIGIN))
    assert (tmp_path / ".oberih" / "audit-checkpoint-key.pem").is_file()


def test_development_key_follows_the_data_directory(tmp_path: Path) -> None:
    development = Settings(
        env=Environment.development, database_url="sqlite://", data_dir=tmp_path / "data"
    )
    load_audit_signer(development, AuditSettings(origin=ORIGIN))
    assert (tmp_path / "data" / "audit-checkpoint-key.pem").is_file()
