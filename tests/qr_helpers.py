"""Reading the QR codes the bot sends: a small PNG decoder (no Pillow needed) and zxing-cpp."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import zxingcpp

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _unfilter(raw: bytes, width_bytes: int, height: int, bpp: int) -> list[bytearray]:
    """Undo PNG's per-row filters."""
    rows: list[bytearray] = []
    prior = bytearray(width_bytes)
    pos = 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + width_bytes])
        pos += 1 + width_bytes
        for i in range(width_bytes):
            left = line[i - bpp] if i >= bpp else 0
            up = prior[i]
            up_left = prior[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prior = line
    return rows


def png_to_gray(data: bytes) -> np.ndarray:
    """A non-interlaced greyscale or palette PNG (bit depth 1 or 8) as a 2-D uint8 array."""
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    pos, idat, palette = 8, b"", None
    width = height = depth = colour = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert interlace == 0 and colour in (0, 3) and depth in (1, 8), (colour, depth)
        elif kind == b"PLTE":
            palette = [body[i] for i in range(0, len(body), 3)]  # the red channel is enough
        elif kind == b"IDAT":
            idat += body
    width_bytes = (width * depth + 7) // 8
    rows = _unfilter(zlib.decompress(idat), width_bytes, height, 1)
    values = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width_bytes)
    if depth == 1:
        values = np.unpackbits(values, axis=1)[:, :width]
    if colour == 3:
        assert palette is not None
        return np.array(palette, dtype=np.uint8)[values]
    return (values * 255).astype(np.uint8) if depth == 1 else values


def decode_qr(data: bytes) -> list[str]:
    """The texts of the QR codes in a PNG."""
    return [barcode.text for barcode in zxingcpp.read_barcodes(png_to_gray(data))]
