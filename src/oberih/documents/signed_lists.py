"""The two lists an offline verifier downloads: the signed trust list and the revocation list.

Both are JSON files ``{"<list>": {...}, "signature": {"alg": "ES256", "value": ...}}`` where the
signature (ES256, raw r||s, base64) covers the canonical JSON of the list object (sorted keys,
no spaces, UTF-8), so anyone can check them with a few lines in any language.

- The **trust list** is signed by the root authority (``keys``), written by ``oberih keys`` when
  signers change and served as is: the service never needs the root key.
- The **revocation list** follows the EU DCC revocation design: entries are hashes of document
  ids (``trust.revocation_hash``), partitioned by the signer's kid, and carry a version so that a
  verifier asks only for what changed since the version it has. It is signed by a document
  signer (whose certificate is on the trust list), as the service produces it on request.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from oberih.documents.errors import DocumentError
from oberih.documents.trust import (
    REVOCATION_HASH_LENGTH,
    InMemoryRevocationList,
    InMemoryTrustStore,
    TrustStore,
    kid_for_certificate,
    signer_from_certificate,
)

TRUST_LIST_FORMAT = "oberih-trust-list/1"
REVOCATION_LIST_FORMAT = "oberih-revocations/1"


class SignedListError(DocumentError):
    """A trust or revocation list is malformed, or its signature or chain does not verify."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise SignedListError("expected base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise SignedListError("invalid base64 text") from None


def canonical_json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_es256(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_es256(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _signed(name: str, body: Mapping[str, Any], signature: Mapping[str, str]) -> dict[str, Any]:
    return {name: dict(body), "signature": dict(signature)}


def _body_and_signature(document: Any, name: str) -> tuple[Mapping[str, Any], bytes, str | None]:
    if not isinstance(document, Mapping) or set(document) != {name, "signature"}:
        raise SignedListError(f"expected an object with {name!r} and 'signature'")
    body, signature = document[name], document["signature"]
    if not isinstance(body, Mapping) or not isinstance(signature, Mapping):
        raise SignedListError("list and signature must be objects")
    if signature.get("alg") != "ES256":
        raise SignedListError("only ES256 signatures are accepted")
    kid = signature.get("kid")
    return body, unb64(signature.get("value")), kid if isinstance(kid, str) else None


# --- trust list ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublishedSigner:
    """A signer certificate on the trust list; ``retired_at`` ends its issuing window."""

    certificate_der: bytes
    retired_at: dt.datetime | None = None

    @property
    def kid(self) -> bytes:
        return kid_for_certificate(self.certificate_der)


def sign_trust_list(
    signers: Iterable[PublishedSigner],
    *,
    root_key: ec.EllipticCurvePrivateKey,
    root_certificate_der: bytes,
    issued_at: dt.datetime,
) -> dict[str, Any]:
    body = {
        "format": TRUST_LIST_FORMAT,
        "issued_at": issued_at.astimezone(dt.UTC).isoformat(),
        "root_certificate": b64(root_certificate_der),
        "signers": [
            {
                "kid": signer.kid.hex(),
                "certificate": b64(signer.certificate_der),
                "retired_at": signer.retired_at.isoformat() if signer.retired_at else None,
            }
            for signer in signers
        ],
    }
    signature = {"alg": "ES256", "value": b64(sign_es256(root_key, canonical_json(body)))}
    return _signed("trust_list", body, signature)


def _root_public_key(root_certificate_der: bytes) -> ec.EllipticCurvePublicKey:
    key = x509.load_der_x509_certificate(root_certificate_der).public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SignedListError("the root certificate does not hold an EC key")
    return key


def _published_signer(entry: Any, root: x509.Certificate) -> PublishedSigner:
    if not isinstance(entry, Mapping):
        raise SignedListError("trust list entry is not an object")
    der = unb64(entry.get("certificate"))
    try:
        x509.load_der_x509_certificate(der).verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        raise SignedListError("a signer certificate is not issued by the root") from None
    retired = entry.get("retired_at")
    try:
        retired_at = dt.datetime.fromisoformat(retired) if isinstance(retired, str) else None
    except ValueError:
        raise SignedListError("invalid retired_at") from None
    return PublishedSigner(certificate_der=der, retired_at=retired_at)


def read_trust_list(document: Any, *, root_certificate_der: bytes) -> list[PublishedSigner]:
    """The signers of a trust list, after checking its signature by the root and that every
    signer certificate was issued by that root. Raises ``SignedListError``."""
    body, signature, _kid = _body_and_signature(document, "trust_list")
    if body.get("format") != TRUST_LIST_FORMAT:
        raise SignedListError("not a trust list of this format")
    try:
        root_key = _root_public_key(root_certificate_der)
        root = x509.load_der_x509_certificate(root_certificate_der)
    except ValueError:
        raise SignedListError("the trust anchor is not a DER X.509 certificate") from None
    if not verify_es256(root_key, signature, canonical_json(body)):
        raise SignedListError("the trust list signature does not verify with the root key")
    entries = body.get("signers")
    if not isinstance(entries, list):
        raise SignedListError("trust list has no signers array")
    return [_published_signer(entry, root) for entry in entries]


def trust_store_of(signers: Iterable[PublishedSigner]) -> InMemoryTrustStore:
    return InMemoryTrustStore(
        signer_from_certificate(s.certificate_der, retired_at=s.retired_at) for s in signers
    )


# --- revocation list ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RevocationPartition:
    kid: bytes
    hashes: Sequence[bytes]


def sign_revocation_list(
    partitions: Iterable[RevocationPartition],
    *,
    version: int,
    since: int,
    generated_at: dt.datetime,
    signer_key: ec.EllipticCurvePrivateKey,
    signer_kid: bytes,
) -> dict[str, Any]:
    body = {
        "format": REVOCATION_LIST_FORMAT,
        "version": version,
        "since": since,
        "generated_at": generated_at.astimezone(dt.UTC).isoformat(),
        "partitions": [
            {"kid": p.kid.hex(), "hashes": [b64(h) for h in p.hashes]} for p in partitions
        ],
    }
    value = b64(sign_es256(signer_key, canonical_json(body)))
    return _signed("revocations", body, {"alg": "ES256", "kid": signer_kid.hex(), "value": value})


def _partition(entry: Any) -> RevocationPartition:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("hashes"), list):
        raise SignedListError("revocation partition is not an object with hashes")
    try:
        kid = bytes.fromhex(entry.get("kid", ""))
    except (TypeError, ValueError):
        raise SignedListError("invalid partition kid") from None
    hashes = [unb64(h) for h in entry["hashes"]]
    if any(len(h) != REVOCATION_HASH_LENGTH for h in hashes):
        raise SignedListError("revocation hash of the wrong length")
    return RevocationPartition(kid=kid, hashes=hashes)


def read_revocation_list(
    document: Any, *, trust: TrustStore, into: InMemoryRevocationList | None = None
) -> InMemoryRevocationList:
    """Check a revocation list's signature (its signer must be on the trust list) and add its
    entries to ``into`` (an incremental update) or to a new list."""
    body, signature, kid_hex = _body_and_signature(document, "revocations")
    if body.get("format") != REVOCATION_LIST_FORMAT:
        raise SignedListError("not a revocation list of this format")
    try:
        kid = bytes.fromhex(kid_hex or "")
    except ValueError:
        raise SignedListError("invalid signer kid") from None
    signed = canonical_json(body)
    keys = [s.public_key for s in trust.signers_for(kid)]
    if not any(
        isinstance(key, ec.EllipticCurvePublicKey) and verify_es256(key, signature, signed)
        for key in keys
    ):
        raise SignedListError("the revocation list is not signed by a trusted signer")
    partitions = body.get("partitions")
    if not isinstance(partitions, list):
        raise SignedListError("revocation list has no partitions array")
    revoked = into if into is not None else InMemoryRevocationList()
    for partition in map(_partition, partitions):
        for document_hash in partition.hashes:
            revoked.add_hash(kid=partition.kid, document_hash=document_hash)
    return revoked
