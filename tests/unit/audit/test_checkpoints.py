from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from oberih.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    format_verifier_key,
    key_id,
    parse_checkpoint_text,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_note,
)
from oberih.audit.merkle import leaf_hash, root_hash

# The published example key and note of golang.org/x/mod/sumdb/note (its package docs and
# note_test.go), which every signed-note implementation checks itself against.
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

ORIGIN = "oberih.example/audit"
ROOT = root_hash([leaf_hash(b"synthetic audit entry 0"), leaf_hash(b"synthetic audit entry 1")])


def go_private_key() -> Ed25519PrivateKey:
    typed_seed = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])
    assert typed_seed[0] == 0x01
    return Ed25519PrivateKey.from_private_bytes(typed_seed[1:])


@pytest.fixture
def log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def signed(log_key: Ed25519PrivateKey, tree_size: int = 2) -> str:
    return sign_checkpoint(
        origin=ORIGIN, tree_size=tree_size, root_hash=ROOT, key_name=ORIGIN, private_key=log_key
    )


def verify(text: str, log_key: Ed25519PrivateKey) -> Checkpoint:
    return verify_checkpoint(text, key_name=ORIGIN, public_key=log_key.public_key())


# --- interoperability with golang.org/x/mod/sumdb/note -----------------------------------------


def test_signing_reproduces_the_go_reference_note_byte_for_byte() -> None:
    assert sign_note(GO_TEXT, key_name="PeterNeumann", private_key=go_private_key()) == GO_NOTE


def test_the_go_reference_note_verifies_with_its_verifier_key() -> None:
    verifier = parse_verifier_key(GO_VERIFIER_KEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.key_id.hex() == "c74f20a3"
    assert verify_note(GO_NOTE, key_name="PeterNeumann", public_key=verifier.public_key) == GO_TEXT
    forged = GO_NOTE.replace("cryptography", "cryptographY")
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_note(forged, key_name="PeterNeumann", public_key=verifier.public_key)


def test_verifier_key_format_round_trips() -> None:
    public_key = go_private_key().public_key()
    assert format_verifier_key("PeterNeumann", public_key) == GO_VERIFIER_KEY
    assert key_id("PeterNeumann", public_key).hex() == "c74f20a3"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "base64|Ed25519"),
        ("PeterNeumann+c74f20a3+AhpcAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "Ed25519"),
        ("PeterNeumann+c74f2+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not <name>"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "space"),
        ("PeterNeumann", "not <name>"),
    ],
)
def test_malformed_verifier_keys_are_refused(text: str, reason: str) -> None:
    with pytest.raises(CheckpointError, match=reason):
        parse_verifier_key(text)


# --- checkpoints -------------------------------------------------------------------------------


def test_checkpoint_text_has_the_c2sp_layout(log_key: Ed25519PrivateKey) -> None:
    lines = signed(log_key, tree_size=2).split("\n")
    assert lines[:4] == [ORIGIN, "2", base64.b64encode(ROOT).decode(), ""]
    assert lines[4].startswith(f"— {ORIGIN} ")
    assert lines[5:] == [""]
    signature = base64.b64decode(lines[4].split(" ")[2])
    assert signature[:4] == key_id(ORIGIN, log_key.public_key())
    assert len(signature) == 4 + 64


def test_signed_checkpoint_verifies(log_key: Ed25519PrivateKey) -> None:
    checkpoint = verify_checkpoint(
        signed(log_key, tree_size=2),
        key_name=ORIGIN,
        public_key=log_key.public_key(),
        origin=ORIGIN,
    )
    assert checkpoint == Checkpoint(origin=ORIGIN, tree_size=2, root_hash=ROOT)


@pytest.mark.parametrize(
    ("original", "replacement"),
    [("\n2\n", "\n3\n"), (ORIGIN + "\n", "oberih.example/other\n"), ("=\n\n", "=\nextra\n\n")],
)
def test_an_edited_checkpoint_fails(
    log_key: Ed25519PrivateKey, original: str, replacement: str
) -> None:
    edited = signed(log_key).replace(original, replacement, 1)
    with pytest.raises(CheckpointError, match="does not verify"):
        verify(edited, log_key)


def test_an_edited_root_hash_fails(log_key: Ed25519PrivateKey) -> None:
    other_root = base64.b64encode(leaf_hash(b"other")).decode()
    edited = signed(log_key).replace(base64.b64encode(ROOT).decode(), other_root)
    with pytest.raises(CheckpointError, match="does not verify"):
        verify(edited, log_key)


def test_a_checkpoint_signed_by_another_key_is_unverified(log_key: Ed25519PrivateKey) -> None:
    with pytest.raises(CheckpointError, match="not signed by key"):
        verify(signed(Ed25519PrivateKey.generate()), log_key)


def test_a_forged_signature_under_the_log_key_id_fails(log_key: Ed25519PrivateKey) -> None:
    text = signed(log_key)
    body, line = text.rsplit("— ", 1)
    name, encoded = line.split(" ")
    signature = bytearray(base64.b64decode(encoded))
    signature[10] ^= 1
    forged = f"{body}— {name} {base64.b64encode(bytes(signature)).decode()}\n"
    with pytest.raises(CheckpointError, match="does not verify"):
        verify(forged, log_key)


def test_witness_cosignatures_from_unknown_keys_are_ignored(log_key: Ed25519PrivateKey) -> None:
    witness = Ed25519PrivateKey.generate()
    text = signed(log_key)
    body = text[: text.index("\n\n") + 1]
    cosigned = (
        text + sign_note(body, key_name="witness.example", private_key=witness).split("\n\n")[1]
    )
    assert verify(cosigned, log_key).tree_size == 2
    assert (
        verify_checkpoint(
            cosigned, key_name="witness.example", public_key=witness.public_key()
        ).tree_size
        == 2
    )


def test_wrong_origin_is_refused(log_key: Ed25519PrivateKey) -> None:
    with pytest.raises(CheckpointError, match=r"not 'oberih\.example/other'"):
        verify_checkpoint(
            signed(log_key),
            key_name=ORIGIN,
            public_key=log_key.public_key(),
            origin="oberih.example/other",
        )


def test_extension_lines_are_kept(log_key: Ed25519PrivateKey) -> None:
    text = Checkpoint(origin=ORIGIN, tree_size=5, root_hash=ROOT, extension_lines=("x y",))
    note = sign_note(text.note_text(), key_name=ORIGIN, private_key=log_key)
    assert verify(note, log_key).extension_lines == ("x y",)


@pytest.mark.parametrize(
    ("note_text", "reason"),
    [
        (f"{ORIGIN}\n02\nROOT\n", "leading zeros"),
        (f"{ORIGIN}\n-1\nROOT\n", "leading zeros"),
        (f"{ORIGIN}\n18446744073709551616\nROOT\n", "uint64"),
        (f"{ORIGIN}\n2\n", "origin, size and root"),
        (f"{ORIGIN}\n2\nAAAA\n", "root hash has 3 bytes"),
        (f"{ORIGIN}\n2\nnot base64!\n", "base64"),
        ("\n2\nROOT\n", "origin, size and root"),
    ],
)
def test_malformed_checkpoint_texts_are_refused(note_text: str, reason: str) -> None:
    with pytest.raises(CheckpointError, match=reason):
        parse_checkpoint_text(note_text.replace("ROOT", base64.b64encode(ROOT).decode()))


def test_non_canonical_root_base64_is_refused() -> None:
    canonical = base64.b64encode(b"\xff" * 32).decode()  # ends "...8=", last bits zero
    non_canonical = canonical[:-2] + "9="
    assert base64.b64decode(non_canonical) == b"\xff" * 32
    with pytest.raises(CheckpointError, match="canonical"):
        parse_checkpoint_text(f"{ORIGIN}\n1\n{non_canonical}\n")


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda note: note.replace("\n\n", "\n"), "no blank line"),
        (lambda note: note[:-1], "end with a signature line"),
        (lambda note: note.replace("— ", "-- "), "malformed signature line"),
        (lambda note: note.replace("— ", "—  "), "malformed signature line"),
        (lambda note: note.replace(ORIGIN + " ", ORIGIN + "+x "), "space or '\\+'"),
        (lambda note: note[:-3] + "!\n", "base64"),
        (lambda note: note.replace("\n2\n", "\n2\t\n"), "control character"),
        (lambda note: note + "— other AAAA\n", "too short"),
        (lambda note: note + "— other AAAAAAAA\n" * 100, "more than 100"),
    ],
)
def test_malformed_notes_are_refused(
    log_key: Ed25519PrivateKey, mangle: Callable[[str], str], reason: str
) -> None:
    with pytest.raises(CheckpointError, match=reason):
        verify(mangle(signed(log_key)), log_key)


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (dict(origin=""), "empty or not one line"),
        (dict(origin="a\nb"), "empty or not one line"),
        (dict(tree_size=-1), "uint64"),
        (dict(root_hash=b"short"), "root hash has 5 bytes"),
        (dict(key_name="has space"), "space"),
    ],
)
def test_signing_refuses_bad_input(
    log_key: Ed25519PrivateKey, arguments: dict[str, Any], reason: str
) -> None:
    good: dict[str, Any] = dict(origin=ORIGIN, tree_size=1, root_hash=ROOT, key_name=ORIGIN)
    with pytest.raises(CheckpointError, match=reason):
        sign_checkpoint(private_key=log_key, **(good | arguments))


@given(
    origin=st.from_regex(r"[a-z0-9.]{1,20}/[a-z0-9-]{1,20}", fullmatch=True),
    tree_size=st.integers(0, (1 << 64) - 1),
    root=st.binary(min_size=32, max_size=32),
)
def test_any_checkpoint_round_trips(origin: str, tree_size: int, root: bytes) -> None:
    key = go_private_key()  # a fixed key: generating one per example would dominate the time
    text = sign_checkpoint(
        origin=origin, tree_size=tree_size, root_hash=root, key_name=origin, private_key=key
    )
    checkpoint = verify_checkpoint(
        text, key_name=origin, public_key=key.public_key(), origin=origin
    )
    assert (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash) == (
        origin,
        tree_size,
        root,
    )
