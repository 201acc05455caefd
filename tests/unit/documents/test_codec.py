import zlib

import pytest

from oberih.documents import DocumentContext, SignerError, issue
from oberih.documents.codec import (
    MAX_DECOMPRESSED_SIZE,
    base45_decode,
    base45_encode,
    decode_code,
    decompress,
    split_prefix,
)
from oberih.documents.errors import MalformedDocumentError, UnsupportedDocumentError
from tests.unit.documents.factories import make_claims, make_signer


def test_base45_matches_rfc_9285_examples() -> None:
    # RFC 9285 §4.3 and §4.4.
    assert base45_encode(b"AB") == "BB8"
    assert base45_encode(b"Hello!!") == "%69 VD92EX0"
    assert base45_decode("QED8WEX0") == b"ietf!"


@pytest.mark.parametrize("text", ["GGW", "BB8\n", "bb8", "A", "BB8A"])
def test_base45_decoding_is_strict(text: str) -> None:
    # GGW = 65535 + 1 overflows; a newline, lower case, a lone character are not base45.
    with pytest.raises(MalformedDocumentError):
        base45_decode(text)


def _raw_deflate(data: bytes) -> bytes:
    deflater = zlib.compressobj(wbits=-15)
    return deflater.compress(data) + deflater.flush()


def test_decompress_inverts_compress() -> None:
    assert decompress(zlib.compress(b"document", 9)) == b"document"


def test_decompress_stops_a_zip_bomb_at_the_cap() -> None:
    bomb = zlib.compress(b"\0" * 50_000_000, 9)  # ~50 KB that inflates to 50 MB
    with pytest.raises(MalformedDocumentError, match="larger than"):
        decompress(bomb)


def test_decompress_accepts_exactly_the_cap() -> None:
    assert len(decompress(zlib.compress(b"\0" * MAX_DECOMPRESSED_SIZE))) == MAX_DECOMPRESSED_SIZE


@pytest.mark.parametrize(
    "data",
    [
        zlib.compress(b"document")[:-3],  # truncated
        zlib.compress(b"document") + b"\0",  # trailing byte
        b"document",  # not compressed at all
        _raw_deflate(b"document"),  # deflate without the zlib header (RFC 1951, not 1950)
    ],
)
def test_decompress_rejects_anything_but_one_complete_zlib_stream(data: bytes) -> None:
    with pytest.raises(MalformedDocumentError):
        decompress(data)


def test_split_prefix_knows_our_context_and_the_eu_dcc() -> None:
    assert split_prefix("MR1:ABC") == (DocumentContext.registration, "ABC")
    assert split_prefix("HC1:ABC") == (DocumentContext.eu_dcc, "ABC")


@pytest.mark.parametrize("code", ["HC2:ABC", "MR2:ABC", "HL0:ABC"])
def test_unknown_contexts_are_unsupported(code: str) -> None:
    with pytest.raises(UnsupportedDocumentError):
        split_prefix(code)


@pytest.mark.parametrize("code", ["ABC", "mr1:ABC", " MR1:ABC", "MR1:" + "A" * 5000])
def test_missing_or_odd_prefixes_are_malformed(code: str) -> None:
    with pytest.raises(MalformedDocumentError):
        split_prefix(code)


def test_issue_produces_an_mr1_code_of_qr_alphanumeric_characters() -> None:
    signer = make_signer()
    code = issue(make_claims(), signer_key=signer.key, signer_cert_der=signer.certificate_der)
    assert code.startswith("MR1:")
    assert set(code) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    context, cose_bytes = decode_code(code)
    assert context is DocumentContext.registration
    assert cose_bytes[0] == 0xD2  # CBOR tag 18, COSE_Sign1


def test_issue_refuses_a_key_that_does_not_match_the_certificate() -> None:
    signer, other = make_signer(), make_signer()
    with pytest.raises(SignerError):
        issue(make_claims(), signer_key=other.key, signer_cert_der=signer.certificate_der)
