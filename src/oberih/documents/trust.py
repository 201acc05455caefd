"""Who may sign documents, and which documents were revoked: the two lists a verifier
downloads while online and then uses offline.

Trust: ``kid`` (first 8 bytes of SHA-256 over the signer certificate, the DCC rule) to the
signer's public key and its *issuing window*. A document verifies only if its ``iat`` falls in
the window, so a retired signer still vouches for what it issued before retirement, until those
documents expire, and for nothing after. An 8-byte kid can collide, so a kid maps to a list
and the verifier tries every key under it (HCERT spec, Key Identifier).

Revocation follows the DCC revocation design: the list holds hashes, not identifiers
(SHA-256 of the document id in UTF-8, first 16 bytes, like the DCC's ``UCI`` hash type), and is
partitioned by the signer's kid, so a verifier can fetch and search one signer's share.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from oberih.documents.cose import PublicKey
from oberih.documents.errors import SignerError

KID_LENGTH = 8
REVOCATION_HASH_LENGTH = 16


def kid_for_certificate(certificate_der: bytes) -> bytes:
    """Key identifier of a signer: SHA-256 of its certificate (DER), first 8 bytes."""
    return hashlib.sha256(certificate_der).digest()[:KID_LENGTH]


def revocation_hash(document_id: UUID | str) -> bytes:
    """The revocation-list entry for a document id (DCC ``UCI`` hash: SHA-256 of the text
    form, first 16 bytes). A UUID hashes as its canonical lower-case hyphenated text."""
    text = str(document_id)
    return hashlib.sha256(text.encode("utf-8")).digest()[:REVOCATION_HASH_LENGTH]


@dataclass(frozen=True, slots=True)
class TrustedSigner:
    """A key trusted for documents issued in ``[issuing_from, issuing_until]`` and expiring
    no later than ``valid_until`` (HCERT spec, CWT claims: ``iat`` must not predate and
    ``exp`` must not exceed the signer certificate's validity). ``None`` leaves a bound open.
    """

    kid: bytes
    public_key: PublicKey
    issuing_from: dt.datetime | None = None
    issuing_until: dt.datetime | None = None
    valid_until: dt.datetime | None = None

    def vouches_for(self, *, issued_at: dt.datetime, expires_at: dt.datetime) -> bool:
        if self.issuing_from is not None and issued_at < self.issuing_from:
            return False
        if self.issuing_until is not None and issued_at > self.issuing_until:
            return False
        return self.valid_until is None or expires_at <= self.valid_until


class TrustStore(Protocol):
    """The published list of signing keys, looked up by kid."""

    def signers_for(self, kid: bytes) -> Sequence[TrustedSigner]: ...


class RevocationChecker(Protocol):
    """The published revocation list, one partition per signer kid."""

    def is_revoked(self, *, kid: bytes, document_hash: bytes) -> bool: ...


def _public_key(certificate: x509.Certificate) -> PublicKey:
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise SignerError("signer certificate holds neither an EC nor an RSA key")
    return key


def signer_from_certificate(
    certificate_der: bytes,
    *,
    retired_at: dt.datetime | None = None,
    use_certificate_validity: bool = True,
) -> TrustedSigner:
    """A ``TrustedSigner`` from an X.509 signer certificate (DER).

    Documents must be issued and expire within the certificate's validity (unless
    ``use_certificate_validity`` is off). A signer retired early at ``retired_at`` keeps
    vouching for documents issued until then, up to their expiry, and for none issued later.
    """
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
    except ValueError:
        raise SignerError("signer certificate is not DER X.509") from None
    not_before = certificate.not_valid_before_utc if use_certificate_validity else None
    not_after = certificate.not_valid_after_utc if use_certificate_validity else None
    issuing_until = not_after
    if retired_at is not None:
        issuing_until = retired_at if not_after is None else min(not_after, retired_at)
    return TrustedSigner(
        kid=kid_for_certificate(certificate_der),
        public_key=_public_key(certificate),
        issuing_from=not_before,
        issuing_until=issuing_until,
        valid_until=not_after,
    )


class InMemoryTrustStore:
    """A ``TrustStore`` held in a dict; built from signers or certificates."""

    def __init__(self, signers: Iterable[TrustedSigner] = ()) -> None:
        self._signers: dict[bytes, list[TrustedSigner]] = defaultdict(list)
        for signer in signers:
            self.add(signer)

    @classmethod
    def from_certificates(
        cls, certificates_der: Iterable[bytes], *, use_certificate_validity: bool = True
    ) -> InMemoryTrustStore:
        return cls(
            signer_from_certificate(der, use_certificate_validity=use_certificate_validity)
            for der in certificates_der
        )

    def add(self, signer: TrustedSigner) -> None:
        self._signers[signer.kid].append(signer)

    def signers_for(self, kid: bytes) -> Sequence[TrustedSigner]:
        return tuple(self._signers.get(kid, ()))


class InMemoryRevocationList:
    """A ``RevocationChecker`` held in memory: kid -> set of 16-byte document hashes."""

    def __init__(self) -> None:
        self._partitions: dict[bytes, set[bytes]] = defaultdict(set)

    def revoke(self, *, kid: bytes, document_id: UUID | str) -> None:
        self.add_hash(kid=kid, document_hash=revocation_hash(document_id))

    def add_hash(self, *, kid: bytes, document_hash: bytes) -> None:
        self._partitions[kid].add(document_hash)

    def is_revoked(self, *, kid: bytes, document_hash: bytes) -> bool:
        return document_hash in self._partitions.get(kid, ())
