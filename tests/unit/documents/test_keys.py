"""Keys on disk: root and signers, rotation, retirement, the signed lists, file modes."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from oberih.config import Settings
from oberih.documents import Reason, verify
from oberih.documents.keys import (
    ROOT_KEY_FILE,
    SIGNERS_DIR,
    DocumentKeyError,
    DocumentSettings,
    init_keyring,
    load_document_keys,
    load_keyring,
    retire_signer,
    rotate_signer,
)
from oberih.documents.signed_lists import (
    RevocationPartition,
    SignedListError,
    read_revocation_list,
    read_trust_list,
    sign_revocation_list,
    trust_store_of,
)
from oberih.documents.trust import revocation_hash
from tests.unit.documents.factories import make_claims

T0 = dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _claims(at: dt.datetime):  # type: ignore[no-untyped-def]
    return make_claims(issued_at=at, expires_at=at + 300 * DAY)


def test_init_writes_private_keys_owner_only_and_a_trust_list_signed_by_the_root(
    tmp_path: Path,
) -> None:
    keyring = init_keyring(tmp_path / "keys", now=T0)
    assert len(keyring.signers) == 1
    for path in [
        tmp_path / "keys" / ROOT_KEY_FILE,
        *(tmp_path / "keys" / SIGNERS_DIR).glob("*.key.pem"),
    ]:
        assert os.stat(path).st_mode & 0o077 == 0
    signers = read_trust_list(
        keyring.trust_list(), root_certificate_der=keyring.root_certificate_der
    )
    assert [s.kid for s in signers] == [keyring.signers[0].kid]
    with pytest.raises(DocumentKeyError):
        init_keyring(tmp_path / "keys", now=T0)  # never overwrites keys


def test_a_tampered_trust_list_or_another_root_is_refused(tmp_path: Path) -> None:
    keyring = init_keyring(tmp_path / "a", now=T0)
    other = init_keyring(tmp_path / "b", now=T0)
    with pytest.raises(SignedListError):
        read_trust_list(keyring.trust_list(), root_certificate_der=other.root_certificate_der)
    tampered = keyring.trust_list()
    tampered["trust_list"]["signers"].append(other.trust_list()["trust_list"]["signers"][0])
    with pytest.raises(SignedListError):
        read_trust_list(tampered, root_certificate_der=keyring.root_certificate_der)


def test_rotation_keeps_old_signers_and_the_newest_signs(tmp_path: Path) -> None:
    keyring = init_keyring(tmp_path, now=T0)
    keyring, added = rotate_signer(keyring, now=T0 + DAY)
    assert len(keyring.signers) == 2
    signer = keyring.signer_for(issued_at=T0 + 2 * DAY, expires_at=T0 + 300 * DAY)
    assert signer.kid == added.kid
    assert "PRIVATE" not in repr(signer)
    reloaded = load_keyring(tmp_path)
    assert [s.kid for s in reloaded.signers] == [s.kid for s in keyring.signers]


def test_a_retired_signer_verifies_what_it_signed_before_but_signs_nothing_after(
    tmp_path: Path,
) -> None:
    keyring = init_keyring(tmp_path, now=T0)
    first = keyring.signer_for(issued_at=T0 + DAY, expires_at=T0 + 300 * DAY)
    before = first.issue(_claims(T0 + DAY))
    keyring, _ = rotate_signer(keyring, now=T0 + 2 * DAY)
    keyring = retire_signer(keyring, first.kid.hex(), now=T0 + 3 * DAY)
    trust = trust_store_of(
        read_trust_list(keyring.trust_list(), root_certificate_der=keyring.root_certificate_der)
    )
    assert verify(before, trust=trust, revoked=None, at=T0 + 10 * DAY).reason is Reason.ok
    after = first.issue(_claims(T0 + 4 * DAY))  # the stolen or forgotten key, used later
    assert verify(after, trust=trust, revoked=None, at=T0 + 10 * DAY).reason is Reason.unknown_key
    assert keyring.signer_for(issued_at=T0 + 4 * DAY, expires_at=T0 + 300 * DAY).kid != first.kid


def test_no_signer_for_a_document_outliving_every_certificate(tmp_path: Path) -> None:
    keyring = init_keyring(tmp_path, now=T0)
    with pytest.raises(DocumentKeyError, match="rotate"):
        keyring.signer_for(issued_at=T0 + DAY, expires_at=T0 + 5000 * DAY)


def test_passphrase_encrypts_the_private_keys(tmp_path: Path) -> None:
    secret = SecretStr("synthetic passphrase")
    keyring = init_keyring(tmp_path, now=T0, passphrase=secret)
    assert b"ENCRYPTED" in (tmp_path / ROOT_KEY_FILE).read_bytes()
    with pytest.raises(DocumentKeyError, match="passphrase"):
        load_keyring(tmp_path).signer_for(issued_at=T0 + DAY, expires_at=T0 + 9 * DAY)
    assert keyring.signer_for(issued_at=T0 + DAY, expires_at=T0 + 9 * DAY).kid


def test_outside_development_missing_or_loose_keys_are_refused(tmp_path: Path) -> None:
    production = Settings(env="production", data_dir=tmp_path)
    with pytest.raises(DocumentKeyError):
        load_document_keys(production, DocumentSettings(), now=T0)
    with pytest.raises(DocumentKeyError, match="no document keys"):
        load_document_keys(production, DocumentSettings(keys_dir=tmp_path / "none"), now=T0)
    keyring = init_keyring(tmp_path / "keys", now=T0)
    settings = DocumentSettings(keys_dir=tmp_path / "keys")
    assert load_document_keys(production, settings, now=T0).signers == keyring.signers
    key_file = next((tmp_path / "keys" / SIGNERS_DIR).glob("*.key.pem"))
    os.chmod(key_file, 0o644)
    with pytest.raises(DocumentKeyError, match="group or others"):
        load_document_keys(production, settings, now=T0)  # at start, not at the first issue
    os.chmod(key_file, 0o600)
    with pytest.raises(DocumentKeyError, match="rotate"):  # no signer can sign in 2040
        load_document_keys(production, settings, now=T0.replace(year=2040))


def test_development_creates_its_keys_on_first_start(tmp_path: Path) -> None:
    keyring = load_document_keys(Settings(env="test", data_dir=tmp_path), now=T0)
    assert keyring.signers and (keyring.directory / "trust-list.json").exists()


def test_revocation_list_is_signed_by_a_trusted_signer_and_updates_incrementally(
    tmp_path: Path,
) -> None:
    keyring = init_keyring(tmp_path, now=T0)
    signer = keyring.signer_for(issued_at=T0 + DAY, expires_at=T0 + 9 * DAY)
    claims = _claims(T0 + DAY)
    listed = sign_revocation_list(
        [RevocationPartition(kid=signer.kid, hashes=[revocation_hash(claims.document_id)])],
        version=3,
        since=0,
        generated_at=T0 + DAY,
        signer_key=signer.private_key,
        signer_kid=signer.kid,
    )
    trust = keyring.trust_store()
    revoked = read_revocation_list(json.loads(json.dumps(listed)), trust=trust)
    code = signer.issue(claims)
    assert verify(code, trust=trust, revoked=revoked, at=T0 + 2 * DAY).reason is Reason.revoked
    listed["revocations"]["partitions"] = []
    with pytest.raises(SignedListError):
        read_revocation_list(listed, trust=trust)
