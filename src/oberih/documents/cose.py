"""COSE_Sign1 (RFC 9052) with ES256 and PS256, built directly on cbor2 and cryptography.

Why not a COSE library: the structure we need is four CBOR items and one signed array
(RFC 9052 §4.4), and owning those few lines lets every byte of untrusted input pass through
our bounded decoder (``cbor.loads_strict``) and lets us apply the header rules of RFC 9052 §3
exactly as the EU DCC verifiers do. It also keeps one dependency fewer in a security path.

Header rules (RFC 9052 §3): a label present in the protected bucket wins; only a label absent
there is taken from the unprotected bucket. The DCC allows ``kid`` (and some issuers put
``alg``) unprotected. Accepting an unprotected ``alg`` is safe here because the algorithm is
bound to the trusted key's type: an EC key verifies only ES256, an RSA key only PS256, so
changing ``alg`` cannot downgrade anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from oberih.documents.cbor import CborLimits, dumps_deterministic, loads_strict
from oberih.documents.errors import MalformedDocumentError, SignerError, UnsupportedDocumentError

COSE_SIGN1_TAG = 18  # RFC 9052 §4.2
CWT_TAG = 61  # RFC 8392 §6: optional outer tag, seen in DCC vectors as 61(18(...))
HEADER_ALG = 1
HEADER_KID = 4
ALG_ES256 = -7  # RFC 9053 §2.1
ALG_PS256 = -37  # RFC 8230 §2
PSS_SALT_LENGTH = 32  # RFC 8230 §2: salt length equals the hash output (SHA-256)
MIN_RSA_BITS = 2048  # RFC 8230 §6
# RFC 9053 §2.1 defines ECDSA on these curves only; the hash comes from ``alg``.
ECDSA_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())  # immutable; built once, not per verification
# map(2), key 1, -7 (0x26), key 4, byte string of 8 (0x48)
_OUR_PROTECTED_PREFIX = bytes([0xA2, 0x01, 0x26, 0x04, 0x48])
_ENVELOPE_LIMITS = CborLimits(max_depth=6, max_items=64, allowed_tags=frozenset({18, 61}))
_HEADER_LIMITS = CborLimits(max_depth=4, max_items=64)


@dataclass(frozen=True, slots=True)
class Sign1Message:
    """A parsed, *not yet verified* COSE_Sign1. Nothing in it may be trusted before
    ``verify_signature`` succeeds, except for choosing the key to check it with."""

    protected_bytes: bytes
    protected: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes

    def header(self, label: int) -> Any:
        if label in self.protected:
            return self.protected[label]
        return self.unprotected.get(label)

    @property
    def algorithm(self) -> int:
        return _supported_algorithm(self.header(HEADER_ALG))

    @property
    def kid(self) -> bytes | None:
        kid = self.header(HEADER_KID)
        return kid if isinstance(kid, bytes) else None


def _supported_algorithm(alg: Any) -> int:
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise UnsupportedDocumentError("COSE algorithm missing or not an integer")
    if alg not in (ALG_ES256, ALG_PS256):
        raise UnsupportedDocumentError(f"COSE algorithm {alg} not supported")
    return alg


def sig_structure(protected_bytes: bytes, payload: bytes) -> bytes:
    """The bytes that are signed (RFC 9052 §4.4), with empty external AAD."""
    return cbor2.dumps(["Signature1", protected_bytes, b"", payload])


def _decode_protected(protected_bytes: bytes) -> Mapping[Any, Any]:
    if protected_bytes == b"":  # RFC 9052 §3: no protected header parameters
        return {}
    # The header we issue, {1: -7, 4: h'<8-byte kid>'}, recognised by its exact encoding:
    # the same map cbor2 would build, without scanning and decoding 13 bytes each time.
    if len(protected_bytes) == 13 and protected_bytes[:5] == _OUR_PROTECTED_PREFIX:
        return {HEADER_ALG: ALG_ES256, HEADER_KID: protected_bytes[5:]}
    protected = loads_strict(protected_bytes, _HEADER_LIMITS)
    if not isinstance(protected, Mapping):
        raise MalformedDocumentError("COSE protected header is not a map")
    return protected


def _untag(envelope: Any) -> Any:
    if isinstance(envelope, cbor2.CBORTag) and envelope.tag == CWT_TAG:
        envelope = envelope.value
    if isinstance(envelope, cbor2.CBORTag):
        if envelope.tag != COSE_SIGN1_TAG:
            raise MalformedDocumentError(f"CBOR tag {envelope.tag} is not COSE_Sign1")
        envelope = envelope.value
    return envelope  # the DCC also accepts an untagged COSE_Sign1


def decode_sign1(data: bytes) -> Sign1Message:
    """Parse a (tagged or untagged) COSE_Sign1 structure that uses ES256 or PS256.

    Raises ``MalformedDocumentError``, or ``UnsupportedDocumentError`` for another algorithm.
    """
    envelope = _untag(loads_strict(data, _ENVELOPE_LIMITS))
    if not isinstance(envelope, list | tuple) or len(envelope) != 4:
        raise MalformedDocumentError("COSE_Sign1 is not an array of four items")
    protected_bytes, unprotected, payload, signature = envelope
    if not isinstance(protected_bytes, bytes) or not isinstance(unprotected, Mapping):
        raise MalformedDocumentError("COSE_Sign1 headers have the wrong types")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise MalformedDocumentError("COSE_Sign1 payload or signature is not a byte string")
    message = Sign1Message(
        protected_bytes=protected_bytes,
        protected=_decode_protected(protected_bytes),
        unprotected=unprotected,
        payload=payload,
        signature=signature,
    )
    _supported_algorithm(message.header(HEADER_ALG))
    return message


def _verify_es256(key: PublicKey, signature: bytes, signed: bytes) -> bool:
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ECDSA_CURVES):
        return False
    size = (key.curve.key_size + 7) // 8
    if len(signature) != 2 * size:  # raw r || s (RFC 9053 §2.1), never DER
        return False
    r = int.from_bytes(signature[:size], "big")
    s = int.from_bytes(signature[size:], "big")
    try:
        key.verify(encode_dss_signature(r, s), signed, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_LENGTH)


def _verify_ps256(key: PublicKey, signature: bytes, signed: bytes) -> bool:
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        return False
    try:
        key.verify(signature, signed, _pss(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def verify_signature(message: Sign1Message, key: PublicKey) -> bool:
    """Whether ``message`` carries a valid signature by ``key`` (raises for unknown alg)."""
    signed = sig_structure(message.protected_bytes, message.payload)
    if message.algorithm == ALG_ES256:
        return _verify_es256(key, message.signature, signed)
    return _verify_ps256(key, message.signature, signed)


def algorithm_for(key: PrivateKey) -> int:
    """The algorithm we sign with for a key: ES256 on P-256, PS256 on RSA >= 2048 bits."""
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return ALG_ES256
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= MIN_RSA_BITS:
        return ALG_PS256
    raise SignerError("signing key must be EC P-256 or RSA of at least 2048 bits")


def _sign(key: PrivateKey, signed: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signed, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return key.sign(signed, _pss(), hashes.SHA256())


def encode_sign1(payload: bytes, *, key: PrivateKey, kid: bytes) -> bytes:
    """Sign ``payload`` as a tagged COSE_Sign1 with ``alg`` and ``kid`` both protected."""
    protected_bytes = dumps_deterministic({HEADER_ALG: algorithm_for(key), HEADER_KID: kid})
    signature = _sign(key, sig_structure(protected_bytes, payload))
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected_bytes, {}, payload, signature]))
