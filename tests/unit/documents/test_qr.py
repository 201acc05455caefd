import pytest

from oberih.documents import DocumentTooLargeError, issue, qr_png, qr_svg, qr_version
from oberih.documents.qr import MAX_ALPHANUMERIC_CHARS, MAX_QR_VERSION, ensure_fits, make_qr
from tests.unit.documents.factories import Signer, make_claims, make_long_claims, make_signer

SIGNER = make_signer()
RSA_SIGNER = make_signer(rsa_bits=2048)


def _code(*, long: bool, signer: Signer = SIGNER) -> str:
    claims = make_long_claims() if long else make_claims()
    return issue(claims, signer_key=signer.key, signer_cert_der=signer.certificate_der)


def test_a_realistically_long_document_fits_qr_version_20() -> None:
    # Long double-barrelled surname and patronymic in both scripts, officer rank, specialty,
    # deferral with ground and end date, the "data being clarified" flag: all set.
    version = qr_version(_code(long=True))
    assert version <= MAX_QR_VERSION
    print(f"long ES256 document: QR version {version}")


def test_an_ordinary_document_stays_well_below() -> None:
    assert qr_version(_code(long=False)) <= 15


def test_the_whole_code_is_one_alphanumeric_segment_at_level_q() -> None:
    symbol = make_qr(_code(long=False))
    assert symbol.mode == "alphanumeric"
    assert symbol.error == "Q"


def test_png_and_svg_render() -> None:
    code = _code(long=False)
    assert qr_png(code).startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in qr_svg(code)


@pytest.mark.parametrize("length", [1000, 10_000])  # above version 20; above version 40
def test_codes_above_version_20_are_refused(length: int) -> None:
    with pytest.raises(DocumentTooLargeError):
        qr_png("MR1:" + "A" * length)


def test_issue_refuses_a_document_too_large_for_the_qr() -> None:
    # A 2048-bit RSA signature alone is 256 bytes: with long claims it cannot fit.
    with pytest.raises(DocumentTooLargeError):
        _code(long=True, signer=RSA_SIGNER)


def test_the_length_limit_is_exactly_version_20_at_level_q() -> None:
    longest = "MR1:" + "A" * (MAX_ALPHANUMERIC_CHARS - 4)
    assert make_qr(longest).version == MAX_QR_VERSION
    ensure_fits(longest)
    with pytest.raises(DocumentTooLargeError):
        ensure_fits(longest + "A")
    with pytest.raises(DocumentTooLargeError):
        make_qr(longest + "A")
