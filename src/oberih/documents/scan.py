"""Reading a document code from a photo or a picture of its QR (zxing-cpp).

Untrusted input: the image size is capped before decoding (Pillow's decompression-bomb check is
made strict), large photos are scaled down (a phone photo of a QR needs no 12 megapixels), and
whatever the QR holds is only the *text* of a code: ``verify`` does the rest.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image, UnidentifiedImageError

from oberih.documents.errors import MalformedDocumentError

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
SCAN_SIDE = 1600  # pixels; enough for a version-20 QR filling a fifth of the picture


def code_from_image(data: bytes) -> str:
    """The text of the first QR code in an image (PNG, JPEG, ...).

    Raises ``MalformedDocumentError`` when the file is not an image or holds no QR code."""
    if len(data) > MAX_IMAGE_BYTES:
        raise MalformedDocumentError("image larger than 8 MiB")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            if width * height > MAX_IMAGE_PIXELS:
                raise MalformedDocumentError("image has too many pixels")
            image = opened.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise MalformedDocumentError("not a readable image") from None
    if max(image.size) > SCAN_SIDE:
        image.thumbnail((SCAN_SIDE, SCAN_SIDE))
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    if not found:
        raise MalformedDocumentError("no QR code found in the image")
    return str(found[0].text)
