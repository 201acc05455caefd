"""The transport layers of a document code, and ``issue()`` which stacks them all.

    claims --CBOR--> CWT --COSE_Sign1--> bytes --zlib--> --base45--> "MR1:" + text --> QR

exactly the layering of the EU Digital COVID Certificate (HCERT spec §3), whose ``HC1:`` codes
``verify`` also reads. Each layer is a small function with a strict inverse that raises
``MalformedDocumentError`` (or ``UnsupportedDocumentError`` for a context we do not know).
"""

from __future__ import annotations

import re
import zlib
from enum import StrEnum

import base45
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from oberih.documents.cbor import dumps_deterministic
from oberih.documents.claims import RegistrationDocumentClaims, claims_to_cwt
from oberih.documents.cose import PrivateKey, encode_sign1
from oberih.documents.errors import MalformedDocumentError, SignerError, UnsupportedDocumentError
from oberih.documents.qr import ensure_fits
from oberih.documents.trust import kid_for_certificate

# QR version 40-L holds 4296 alphanumeric characters; nothing longer came from a QR code.
MAX_CODE_LENGTH = 4296
# Cap on inflated bytes: a real document is < 1 KiB, so 64 KiB leaves room and stops bombs.
MAX_DECOMPRESSED_SIZE = 64 * 1024
_CONTEXT = re.compile(r"^([A-Z]{2}[0-9]):")


class DocumentContext(StrEnum):
    """The prefix before the base45 text says what the code is."""

    registration = "MR1"  # our electronic registration document, version 1
    eu_dcc = "HC1"  # EU Digital COVID Certificate (HCERT spec §3.4)


def add_prefix(context: DocumentContext, text: str) -> str:
    return f"{context.value}:{text}"


def split_prefix(code: str) -> tuple[DocumentContext, str]:
    """``"MR1:ABC"`` -> ``(registration, "ABC")``.

    A well-formed but unknown context (``HC2:``, ``HL0:``) is unsupported; no prefix at all,
    or one in lower case, is malformed."""
    if len(code) > MAX_CODE_LENGTH + 4:
        raise MalformedDocumentError("code longer than any QR code can hold")
    match = _CONTEXT.match(code)
    if match is None:
        raise MalformedDocumentError("code has no context prefix such as MR1:")
    try:
        context = DocumentContext(match.group(1))
    except ValueError:
        raise UnsupportedDocumentError(f"context {match.group(1)}: is not supported") from None
    return context, code[match.end() :]


def base45_encode(data: bytes) -> str:
    return str(base45.b45encode(data).decode("ascii"))


def _base45_table() -> bytes:
    table = bytearray(b"\xff" * 256)
    for value, char in enumerate(base45.BASE45_CHARSET.encode("ascii")):
        table[char] = value
    return bytes(table)


_BASE45_VALUES = _base45_table()  # byte -> its base45 value, 0xFF outside the alphabet


def base45_decode(text: str) -> bytes:
    """Strict RFC 9285 decoding: only the 45 characters, no trailing newline tolerated.

    Why not ``base45.b45decode``: a scanner decodes hundreds of characters per code, and a
    loop per triple in Python cost as much as a third of the signature check. Here every step
    runs in C: each triple (c, d, e) -> c + 45 d + 2025 e is computed for all triples at once
    in 32-bit lanes of three big integers (the largest, 91124, cannot carry into the next lane),
    and a value above 65535 (invalid, RFC 9285 §4) shows as a non-zero second byte of its lane.
    """
    try:
        values = text.encode("ascii").translate(_BASE45_VALUES)
    except UnicodeEncodeError:
        raise MalformedDocumentError("character outside the base45 alphabet") from None
    if b"\xff" in values:
        raise MalformedDocumentError("character outside the base45 alphabet")
    triples, rest = divmod(len(values), 3)
    if rest == 1:
        raise MalformedDocumentError("invalid base45 text")
    end = triples * 3
    total = sum(
        weight * int.from_bytes(_lanes(values[offset:end:3], triples), "big")
        for offset, weight in ((0, 1), (1, 45), (2, 2025))
    )
    packed = total.to_bytes(triples * 4, "big")
    if packed[1::4].count(0) != triples:
        raise MalformedDocumentError("invalid base45 text")
    decoded = bytearray(triples * 2 + rest // 2)
    decoded[0 : triples * 2 : 2] = packed[2::4]
    decoded[1 : triples * 2 : 2] = packed[3::4]
    if rest == 2:
        last = values[end] + 45 * values[end + 1]
        if last > 0xFF:
            raise MalformedDocumentError("invalid base45 text")
        decoded[-1] = last
    return bytes(decoded)


def _lanes(digits: bytes, count: int) -> bytearray:
    lanes = bytearray(count * 4)
    lanes[3::4] = digits
    return lanes


def compress(data: bytes) -> bytes:
    return zlib.compress(data, level=9)


def decompress(data: bytes, *, max_size: int = MAX_DECOMPRESSED_SIZE) -> bytes:
    """Inflate one complete zlib stream (RFC 1950) of at most ``max_size`` bytes.

    Output is requested in a bounded amount so a zip bomb stops after ``max_size + 1`` bytes
    instead of filling memory. Raw deflate, gzip, truncated streams and trailing bytes fail.
    """
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(data, max_size + 1)
    except zlib.error:
        raise MalformedDocumentError("not a valid zlib stream") from None
    if len(inflated) > max_size:
        raise MalformedDocumentError(f"decompressed document larger than {max_size} bytes")
    if not inflater.eof:
        raise MalformedDocumentError("zlib stream is truncated")
    if inflater.unused_data:
        raise MalformedDocumentError("trailing bytes after the zlib stream")
    return inflated


def encode_code(context: DocumentContext, cose_bytes: bytes) -> str:
    return add_prefix(context, base45_encode(compress(cose_bytes)))


def decode_code(code: str) -> tuple[DocumentContext, bytes]:
    """Undo the prefix, base45 and zlib layers; the COSE bytes are not yet verified."""
    context, text = split_prefix(code)
    return context, decompress(base45_decode(text))


def _check_signer(key: PrivateKey, certificate_der: bytes) -> None:
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
    except ValueError:
        raise SignerError("signer certificate is not DER X.509") from None
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise SignerError("signing key does not match the signer certificate")


def issue(
    claims: RegistrationDocumentClaims, *, signer_key: PrivateKey, signer_cert_der: bytes
) -> str:
    """Sign ``claims`` and return the ``MR1:`` code to print as a QR.

    ES256 for an EC P-256 key, PS256 for RSA; ``kid`` = first 8 bytes of SHA-256 of
    ``signer_cert_der``, in the protected header. Raises ``DocumentTooLargeError`` rather than
    hand out a code that needs a QR symbol above ``qr.MAX_QR_VERSION``.
    """
    _check_signer(signer_key, signer_cert_der)
    payload = dumps_deterministic(claims_to_cwt(claims))
    cose_bytes = encode_sign1(payload, key=signer_key, kid=kid_for_certificate(signer_cert_der))
    code = encode_code(DocumentContext.registration, cose_bytes)
    ensure_fits(code)
    return code
