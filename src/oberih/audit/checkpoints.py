"""Signed checkpoints: the audit log's tree head, as a C2SP signed note.

A checkpoint (c2sp.org/tlog-checkpoint) is the note text ``<origin>\\n<tree size>\\n<base64
root hash>\\n`` (then optional extension lines), followed by a blank line and signature lines
``— <key name> <base64(4-byte key ID || Ed25519 signature)>`` (c2sp.org/signed-note, the format
of golang.org/x/mod/sumdb/note). Publishing signed checkpoints commits the register to one
history: a later checkpoint must be consistent with every earlier one (``merkle``), and a
checkpoint signed twice for the same size with different roots proves the log forked.

Keys are Ed25519 (signature type 0x01). A verifier key is shared as the text
``<name>+<hex key ID>+<base64(0x01 || public key)>``; the key ID is
SHA-256(name || 0x0A || 0x01 || public key)[:4] (signed-note, "Signatures").

Exceptions: ``CheckpointError(ValueError)`` for a malformed note or checkpoint, a signature
that does not verify, a note not signed by the expected key, or a wrong origin.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from oberih.audit.merkle import HASH_SIZE

ED25519_SIGNATURE_TYPE = 0x01
_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_KEY_ID_SIZE = 4
_MAX_SIGNATURES = 100  # as golang.org/x/mod/sumdb/note; signed-note asks for at least 16
_MAX_TREE_SIZE = (1 << 64) - 1
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x09\x0b-\x1f]")  # below U+0020, except newline


class CheckpointError(ValueError):
    """A signed note or checkpoint is malformed, unsigned by the expected key, or forged."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log ``origin`` had ``tree_size`` entries with ``root_hash``."""

    origin: str
    tree_size: int
    root_hash: bytes
    extension_lines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extension_lines):
            if not line or "\n" in line or _CONTROL_CHARACTER.search(line):
                raise CheckpointError(f"checkpoint line {line!r} is empty or not one line")
        if not 0 <= self.tree_size <= _MAX_TREE_SIZE:
            raise CheckpointError(f"tree size {self.tree_size} is not a uint64")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"root hash has {len(self.root_hash)} bytes, not {HASH_SIZE}")

    def note_text(self) -> str:
        """The signed part: one line each for origin, size, root hash and extensions."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        lines = [self.origin, str(self.tree_size), root, *self.extension_lines]
        return "".join(f"{line}\n" for line in lines)


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A named Ed25519 public key, as a signed-note verifier knows it."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey


# --- keys --------------------------------------------------------------------------------------


def key_id(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """SHA-256(key name || 0x0A || 0x01 || public key)[:4] (signed-note, "Signatures")."""
    material = key_name.encode() + b"\n" + bytes([ED25519_SIGNATURE_TYPE]) + _raw(public_key)
    return hashlib.sha256(material).digest()[:_KEY_ID_SIZE]


def format_verifier_key(key_name: str, public_key: Ed25519PublicKey) -> str:
    """``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
    _require_key_name(key_name)
    typed_key = bytes([ED25519_SIGNATURE_TYPE]) + _raw(public_key)
    encoded = base64.b64encode(typed_key).decode("ascii")
    return f"{key_name}+{key_id(key_name, public_key).hex()}+{encoded}"


def parse_verifier_key(text: str) -> VerifierKey:
    """Read a verifier key string; its key ID must match its name and public key."""
    parts = text.split("+", 2)  # the base64 part may itself contain '+'
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-fA-F]{8}", parts[1]):
        raise CheckpointError(f"verifier key {text!r} is not <name>+<key ID>+<key>")
    name, claimed_id, encoded = parts
    _require_key_name(name)
    typed_key = _b64decode(encoded, "verifier key")
    if len(typed_key) != 33 or typed_key[0] != ED25519_SIGNATURE_TYPE:
        raise CheckpointError("verifier key is not an Ed25519 (type 0x01) public key")
    public_key = Ed25519PublicKey.from_public_bytes(typed_key[1:])
    computed_id = key_id(name, public_key)
    if computed_id != bytes.fromhex(claimed_id):
        raise CheckpointError(f"verifier key ID {claimed_id} does not match its key")
    return VerifierKey(name=name, key_id=computed_id, public_key=public_key)


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _require_key_name(key_name: str) -> None:
    # signed-note: non-empty, no Unicode spaces, no '+'.
    if not key_name or "+" in key_name or any(char.isspace() for char in key_name):
        raise CheckpointError(f"key name {key_name!r} is empty or has a space or '+'")
    if _CONTROL_CHARACTER.search(key_name):
        raise CheckpointError(f"key name {key_name!r} has a control character")


# --- signed notes ------------------------------------------------------------------------------


def sign_note(text: str, *, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """The note ``text`` followed by a blank line and one Ed25519 signature line."""
    _require_note_text(text)
    _require_key_name(key_name)
    signature = private_key.sign(text.encode())
    encoded = base64.b64encode(key_id(key_name, private_key.public_key()) + signature)
    return f"{text}\n{_SIGNATURE_PREFIX}{key_name} {encoded.decode('ascii')}\n"


def verify_note(note: str, *, key_name: str, public_key: Ed25519PublicKey) -> str:
    """The note's text, once a signature by this key verifies; signatures by others are ignored.

    As signed-note requires: a signature naming this key (same name and key ID) that fails
    rejects the whole note, and so does the absence of any signature by this key.
    """
    text, signatures = _split_note(note)
    expected_id = key_id(key_name, public_key)
    verified = False
    for name, signature in signatures:
        if name != key_name or signature[:_KEY_ID_SIZE] != expected_id:
            continue
        try:
            public_key.verify(signature[_KEY_ID_SIZE:], text.encode())
        except InvalidSignature:
            raise CheckpointError(f"signature by {key_name} does not verify") from None
        verified = True
    if not verified:
        raise CheckpointError(f"note is not signed by key {key_name}+{expected_id.hex()}")
    return text


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    if _CONTROL_CHARACTER.search(note):
        raise CheckpointError("note has a control character other than newline")
    blank_line = note.rfind("\n\n")  # the text may hold blank lines; the last one separates
    if blank_line < 0:
        raise CheckpointError("note has no blank line before its signatures")
    text, signature_block = note[: blank_line + 1], note[blank_line + 2 :]
    if not signature_block.endswith("\n"):
        raise CheckpointError("note does not end with a signature line")
    lines = signature_block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {_MAX_SIGNATURES} signatures")
    return text, [_parse_signature_line(line) for line in lines]


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(_SIGNATURE_PREFIX) or line.count(" ") != 2:
        raise CheckpointError(f"malformed signature line {line!r}")
    name, encoded = line[len(_SIGNATURE_PREFIX) :].split(" ")
    _require_key_name(name)
    signature = _b64decode(encoded, "signature")
    if len(signature) <= _KEY_ID_SIZE:
        raise CheckpointError(f"signature by {name} is too short")
    return name, signature


def _require_note_text(text: str) -> None:
    if not text.endswith("\n") or _CONTROL_CHARACTER.search(text):
        raise CheckpointError("note text must end with a newline and hold no control character")


def _b64decode(encoded: str, what: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} is not standard base64") from None


# --- checkpoints -------------------------------------------------------------------------------


def sign_checkpoint(
    *,
    origin: str,
    tree_size: int,
    root_hash: bytes,
    key_name: str,
    private_key: Ed25519PrivateKey,
) -> str:
    """The checkpoint for this tree head, signed by ``key_name`` (usually equal to origin)."""
    checkpoint = Checkpoint(origin=origin, tree_size=tree_size, root_hash=root_hash)
    return sign_note(checkpoint.note_text(), key_name=key_name, private_key=private_key)


def verify_checkpoint(
    text: str,
    *,
    key_name: str,
    public_key: Ed25519PublicKey,
    origin: str | None = None,
) -> Checkpoint:
    """The checkpoint in ``text`` once its signature by this key verifies.

    Pass ``origin`` to also require the log's identity: a key may sign for several logs.
    """
    checkpoint = parse_checkpoint_text(verify_note(text, key_name=key_name, public_key=public_key))
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


def parse_checkpoint_text(text: str) -> Checkpoint:
    """Read a verified note text as a checkpoint (c2sp.org/tlog-checkpoint, "Note text")."""
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise CheckpointError("checkpoint needs origin, size and root lines, none empty")
    origin, size_line, root_line, *extension_lines = lines
    if not _TREE_SIZE.fullmatch(size_line):
        raise CheckpointError(f"tree size {size_line!r} is not a decimal without leading zeros")
    root = _b64decode(root_line, "root hash")
    if base64.b64encode(root).decode("ascii") != root_line:
        raise CheckpointError("root hash is not canonical base64")
    return Checkpoint(
        origin=origin,
        tree_size=int(size_line),
        root_hash=root,
        extension_lines=tuple(extension_lines),
    )
