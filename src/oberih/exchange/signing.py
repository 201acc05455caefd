"""Batch signatures: a detached JWS (RFC 7515 appendix F) with an unencoded payload (RFC 7797,
``b64: false``) over the exact batch bytes, by a key registered for the sending register.

Why detached JWS rather than COSE: the batch is a JSON Lines file or an HTTP body; a detached
compact JWS travels beside it as one header (``X-Batch-Signature``) or one ``.jws`` file, and the
register verifies the bytes it stores without re-encoding them. Algorithms are pinned to EdDSA
(Ed25519) and ES256; the key is chosen by the header's ``kid`` among the keys registered *for
that source*, so one register's key can never vouch for another's feed.

The key ring is a JSON file (``OBERIH_EXCHANGE_KEYS_FILE``)::

    {"keys": [{"source": "tax", "kid": "tax-2026", "alg": "EdDSA", "public_key": "-----BEGIN..."}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.api_jws import PyJWS
from jwt.exceptions import PyJWTError

Algorithm = Literal["EdDSA", "ES256"]
ALGORITHMS: tuple[Algorithm, ...] = ("EdDSA", "ES256")
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


class BatchRejected(Exception):
    """The batch as a whole is refused; ``reason`` is a short slug, the message says why."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class RegisteredKey:
    source: str
    kid: str
    alg: Algorithm
    public_key: PublicKey


@dataclass
class KeyRing:
    """The registered keys of the source registers (an in-memory one serves tests)."""

    keys: dict[tuple[str, str], RegisteredKey] = field(default_factory=dict)

    def register(self, key: RegisteredKey) -> None:
        self.keys[(key.source, key.kid)] = key

    def find(self, source: str, kid: str) -> RegisteredKey | None:
        return self.keys.get((source, kid))


class InvalidKeyRing(ValueError):
    """The key ring cannot be used as it is; the message names the file, the entry and why.
    A ring is refused whole: a register that silently dropped one entry would reject that
    source's every batch as signed by an unknown key, and one that kept two keys under one id
    could not say which of them a signature names."""


def load_key_ring(path: Path) -> KeyRing:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidKeyRing(f"key ring {path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise InvalidKeyRing(f"key ring {path}: not JSON ({exc})") from None
    return key_ring_from_document(document, origin=f"key ring {path}")


def key_ring_from_document(document: Any, *, origin: str = "key ring") -> KeyRing:
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise InvalidKeyRing(f'{origin}: expected {{"keys": [...]}}')
    ring = KeyRing()
    for index, entry in enumerate(keys):
        where = f"{origin}: keys[{index}]"
        if not isinstance(entry, dict):
            raise InvalidKeyRing(f"{where}: expected an object")
        missing = [name for name in ("source", "kid", "alg", "public_key") if name not in entry]
        if missing:
            raise InvalidKeyRing(f"{where}: missing {', '.join(missing)}")
        try:
            key = registered_key(entry)
        except (TypeError, ValueError, AttributeError) as exc:
            raise InvalidKeyRing(f"{where}: {exc}") from None
        if ring.find(key.source, key.kid) is not None:
            raise InvalidKeyRing(f"{where}: key {key.kid!r} of {key.source!r} is registered twice")
        ring.register(key)
    return ring


def registered_key(entry: dict[str, Any]) -> RegisteredKey:
    alg = entry["alg"]
    if alg not in ALGORITHMS:
        raise ValueError(f"unsupported algorithm {alg!r}; use EdDSA or ES256")
    if not isinstance(entry["source"], str) or not isinstance(entry["kid"], str):
        raise ValueError("source and kid must be strings")
    try:
        public_key = serialization.load_pem_public_key(entry["public_key"].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValueError("public_key is not a PEM public key") from None
    if not isinstance(public_key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise ValueError("only Ed25519 and P-256 keys can sign batches")
    p256 = isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(
        public_key.curve, ec.SECP256R1
    )
    if not (p256 if alg == "ES256" else isinstance(public_key, ed25519.Ed25519PublicKey)):
        raise ValueError(f"an {alg} key must be {'P-256' if alg == 'ES256' else 'Ed25519'}")
    return RegisteredKey(source=entry["source"], kid=entry["kid"], alg=alg, public_key=public_key)


def key_entry(*, source: str, kid: str, private_key: PrivateKey) -> dict[str, Any]:
    """The key ring entry (public half) of a source's signing key."""
    alg: Algorithm = "EdDSA" if isinstance(private_key, ed25519.Ed25519PrivateKey) else "ES256"
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"source": source, "kid": kid, "alg": alg, "public_key": pem.decode("ascii")}


def sign_batch(body: bytes, *, private_key: PrivateKey, kid: str) -> str:
    """What a source register does: the detached compact JWS of the batch bytes."""
    alg = "EdDSA" if isinstance(private_key, ed25519.Ed25519PrivateKey) else "ES256"
    return PyJWS().encode(
        body, private_key, algorithm=alg, headers={"kid": kid}, is_payload_detached=True
    )


def verify_batch(body: bytes, signature: str | None, *, source: str, ring: KeyRing) -> str:
    """Check the batch's signature; return the key id, or raise ``BatchRejected``."""
    if not signature:
        raise BatchRejected("signature-missing", "the batch carries no signature")
    try:
        header = PyJWS().get_unverified_header(signature)
    except PyJWTError:
        raise BatchRejected("signature-malformed", "the signature is not a compact JWS") from None
    kid = header.get("kid")
    key = ring.find(source, kid) if isinstance(kid, str) else None
    if key is None:
        raise BatchRejected(
            "unknown-key", f"key {kid!r} is not registered for source register {source!r}"
        )
    if header.get("alg") != key.alg:
        raise BatchRejected("wrong-algorithm", f"key {kid!r} signs with {key.alg} only")
    try:
        PyJWS().decode_complete(
            signature, key.public_key, algorithms=[key.alg], detached_payload=body
        )
    except PyJWTError:
        raise BatchRejected(
            "bad-signature", f"the signature by key {kid!r} does not match the batch bytes"
        ) from None
    return key.kid
