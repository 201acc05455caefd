"""QR rendering of a document code (segno).

The base45 alphabet plus ``:`` is exactly the QR alphanumeric set, so the whole code goes in
one alphanumeric segment (5.5 bits a character instead of 8), at error correction level Q
(about 25 % of the symbol recoverable), the level the HCERT spec recommends. Codes above
``MAX_QR_VERSION`` are refused: past version 20 (97 x 97 modules) phone cameras start to
struggle with a code shown on a phone screen.
"""

from __future__ import annotations

import io

import segno

from oberih.documents.errors import DocumentTooLargeError

MAX_QR_VERSION = 20
ERROR_CORRECTION = "q"
# Characters one alphanumeric segment holds in a version-20 symbol at level Q (ISO/IEC 18004
# Table 7; tests check it against segno). Issuing checks the length against it instead of
# building the symbol, which takes milliseconds.
MAX_ALPHANUMERIC_CHARS = 702


def ensure_fits(code: str) -> None:
    """Raise ``DocumentTooLargeError`` unless ``code`` fits a QR symbol of ``MAX_QR_VERSION``."""
    if len(code) > MAX_ALPHANUMERIC_CHARS:
        raise DocumentTooLargeError(
            f"code of {len(code)} characters needs a QR version above {MAX_QR_VERSION}"
        )


def make_qr(code: str) -> segno.QRCode:
    """The QR symbol for ``code``; raises ``DocumentTooLargeError`` above ``MAX_QR_VERSION``."""
    try:
        symbol = segno.make_qr(code, error=ERROR_CORRECTION, mode="alphanumeric", boost_error=False)
    except segno.DataOverflowError:
        raise DocumentTooLargeError("code does not fit any QR version") from None
    version = symbol.version
    assert isinstance(version, int)  # "M1".."M4" only for Micro QR, which make_qr never makes
    if version > MAX_QR_VERSION:
        raise DocumentTooLargeError(f"code needs QR version {version} > {MAX_QR_VERSION}")
    return symbol


def qr_version(code: str) -> int:
    return int(make_qr(code).version)


def _render(code: str, kind: str, scale: int) -> bytes:
    buffer = io.BytesIO()
    make_qr(code).save(buffer, kind=kind, scale=scale, border=4)
    return buffer.getvalue()


def qr_png(code: str, *, scale: int = 4) -> bytes:
    return _render(code, "png", scale)


def qr_svg(code: str, *, scale: int = 4) -> bytes:
    return _render(code, "svg", scale)
