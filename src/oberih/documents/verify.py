"""The offline verifier: a scanned code in, a ``Verdict`` out, never an exception (only a
naive ``at``, a programming error, raises ``ValueError``).

Order of checks, each failing with one ``Reason``:

1. prefix, base45, zlib, COSE structure ............ ``malformed`` (``unsupported`` for an
   unknown context such as ``HC2:`` or an algorithm other than ES256/PS256)
2. kid -> trusted keys ............................. ``unknown_key``
3. signature over the COSE Sig_structure ........... ``bad_signature``
   (only now is the payload decoded: no claim is read before its signature is checked)
4. CWT claims and the document's own claims ........ ``malformed``
5. the signer vouches for ``iat``/``exp`` ........... ``unknown_key`` (the key was not trusted
   for a document issued then, e.g. after the signer was retired, or expiring that late)
6. revocation list, partition of the kid ........... ``revoked``
7. ``at`` before ``iat`` or ``nbf`` ................ ``not_yet_valid``
8. ``at`` after ``exp`` ............................ ``expired``

``exp`` itself is still valid: the HCERT spec says a verifier rejects the payload *after* the
expiration time, and the DCC test vectors check exactly that instant. (RFC 8392 inherits
JWT's "on or after"; the difference is one second and we follow the profile we implement.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from oberih.documents.claims import (
    CwtEnvelope,
    RegistrationDocumentClaims,
    claims_from_cwt,
    dcc_from_cwt,
    decode_cwt,
    parse_envelope,
)
from oberih.documents.codec import DocumentContext, decode_code
from oberih.documents.cose import Sign1Message, decode_sign1, verify_signature
from oberih.documents.errors import DocumentError, UnsupportedDocumentError
from oberih.documents.trust import (
    RevocationChecker,
    TrustedSigner,
    TrustStore,
    revocation_hash,
)


class Reason(StrEnum):
    """Why a code is or is not valid; exactly this set, documented in the module doc."""

    ok = "ok"
    malformed = "malformed"
    bad_signature = "bad_signature"
    unknown_key = "unknown_key"
    expired = "expired"
    not_yet_valid = "not_yet_valid"
    revoked = "revoked"
    unsupported = "unsupported"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome. ``claims`` (MR1) or ``dcc`` (HC1, the raw DCC payload) only when valid;
    ``detail`` is a short technical note for logs, never personal data."""

    reason: Reason
    context: DocumentContext | None = None
    kid: bytes | None = None
    claims: RegistrationDocumentClaims | None = None
    dcc: Mapping[str, Any] | None = None
    detail: str = ""

    @property
    def valid(self) -> bool:
        return self.reason is Reason.ok


class _RejectedError(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _rejection(exc: DocumentError) -> _RejectedError:
    if isinstance(exc, UnsupportedDocumentError):
        return _RejectedError(Reason.unsupported, str(exc))
    return _RejectedError(Reason.malformed, str(exc))


@dataclass(frozen=True, slots=True)
class _Signed:
    message: Sign1Message
    kid: bytes
    signers: Sequence[TrustedSigner]  # every trusted key under the kid that verified


def _check_signature(cose_bytes: bytes, trust: TrustStore) -> _Signed:
    try:
        message = decode_sign1(cose_bytes)
    except DocumentError as exc:
        raise _rejection(exc) from None
    kid = message.kid
    if kid is None:
        raise _RejectedError(Reason.malformed, "no kid in the COSE headers")
    candidates = trust.signers_for(kid)
    if not candidates:
        raise _RejectedError(Reason.unknown_key, "kid not in the trust list")
    verified = [signer for signer in candidates if verify_signature(message, signer.public_key)]
    if not verified:
        raise _RejectedError(Reason.bad_signature, "signature does not verify")
    return _Signed(message=message, kid=kid, signers=verified)


@dataclass(frozen=True, slots=True)
class _Content:
    envelope: CwtEnvelope
    claims: RegistrationDocumentClaims | None
    dcc: Mapping[str, Any] | None
    document_hash: bytes | None  # the revocation-list entry, when the document has an id


def _dcc_revocation_hash(dcc: Mapping[str, Any]) -> bytes | None:
    # DCC revocation hash type UCI: the certificate identifier "ci" of its one entry.
    for group in ("v", "t", "r"):
        entries = dcc.get(group)
        if isinstance(entries, list) and entries and isinstance(entries[0], Mapping):
            uci = entries[0].get("ci")
            if isinstance(uci, str):
                return revocation_hash(uci)
    return None


def _read_content(payload: bytes, context: DocumentContext) -> _Content:
    try:
        cwt = decode_cwt(payload)
        envelope = parse_envelope(cwt)
        if context is DocumentContext.registration:
            claims = claims_from_cwt(cwt, envelope)
            return _Content(envelope, claims, None, revocation_hash(claims.document_id))
        dcc = dcc_from_cwt(cwt)
        return _Content(envelope, None, dcc, _dcc_revocation_hash(dcc))
    except DocumentError as exc:
        raise _rejection(exc) from None


def _check_policy(
    signed: _Signed, content: _Content, revoked: RevocationChecker | None, at: dt.datetime
) -> None:
    envelope = content.envelope
    if not any(
        signer.vouches_for(issued_at=envelope.issued_at, expires_at=envelope.expires_at)
        for signer in signed.signers
    ):
        raise _RejectedError(Reason.unknown_key, "signer not trusted for the document's dates")
    if (
        revoked is not None
        and content.document_hash is not None
        and revoked.is_revoked(kid=signed.kid, document_hash=content.document_hash)
    ):
        raise _RejectedError(Reason.revoked, "document is on the revocation list")
    period = validity_period_reason(envelope, at)
    if period is not Reason.ok:
        raise _RejectedError(period, f"outside the validity period: {period}")


def validity_period_reason(envelope: CwtEnvelope, at: dt.datetime) -> Reason:
    """``ok``, ``not_yet_valid`` (before ``iat`` or ``nbf``) or ``expired`` (after ``exp``)."""
    if at < envelope.issued_at or (envelope.not_before is not None and at < envelope.not_before):
        return Reason.not_yet_valid
    if at > envelope.expires_at:
        return Reason.expired
    return Reason.ok


def _require_aware(at: dt.datetime) -> None:
    # A naive time is a programming error, not a property of the scanned document.
    if at.tzinfo is None:
        raise ValueError("verification time must be timezone-aware")


def check_signature(cose_bytes: bytes, *, trust: TrustStore) -> Verdict:
    """Only steps 1-3 on raw COSE bytes: ``ok`` means a trusted key signed exactly these
    bytes; claims are not read. For conformance tests and diagnostics."""
    try:
        signed = _check_signature(cose_bytes, trust)
    except _RejectedError as rejected:
        return Verdict(reason=rejected.reason, detail=rejected.detail)
    return Verdict(reason=Reason.ok, kid=signed.kid)


def verify_cose(
    cose_bytes: bytes,
    *,
    context: DocumentContext,
    trust: TrustStore,
    revoked: RevocationChecker | None,
    at: dt.datetime,
) -> Verdict:
    """Steps 1-8 on COSE bytes whose transport layers were already removed."""
    _require_aware(at)
    kid = None
    try:
        signed = _check_signature(cose_bytes, trust)
        kid = signed.kid
        content = _read_content(signed.message.payload, context)
        _check_policy(signed, content, revoked, at)
    except _RejectedError as rejected:
        return Verdict(reason=rejected.reason, context=context, kid=kid, detail=rejected.detail)
    return Verdict(
        reason=Reason.ok, context=context, kid=kid, claims=content.claims, dcc=content.dcc
    )


def verify(
    code: str, *, trust: TrustStore, revoked: RevocationChecker | None, at: dt.datetime
) -> Verdict:
    """Verify a scanned ``MR1:`` (or EU DCC ``HC1:``) code at time ``at``, offline."""
    _require_aware(at)
    try:
        context, cose_bytes = decode_code(code)
    except DocumentError as exc:
        rejected = _rejection(exc)
        return Verdict(reason=rejected.reason, detail=rejected.detail)
    return verify_cose(cose_bytes, context=context, trust=trust, revoked=revoked, at=at)
