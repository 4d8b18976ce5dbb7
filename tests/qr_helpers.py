"""Reading the QR codes the bot sends, with Pillow and zxing-cpp."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode_qr(data: bytes) -> list[str]:
    """The texts of the QR codes in a PNG."""
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return [barcode.text for barcode in zxingcpp.read_barcodes(image.convert("L"))]
