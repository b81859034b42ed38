"""The one EXIF tag an original keeps: its orientation, so that a browser still turns the picture upright."""

from __future__ import annotations

import struct

EXIF_HEADER = b"Exif\x00\x00"
ORIENTATION = 0x0112


def orientation(tiff: bytes) -> int | None:
    """The orientation (1-8) in IFD0 of TIFF-structured EXIF data (with or without the Exif header)."""
    if tiff.startswith(EXIF_HEADER):
        tiff = tiff[len(EXIF_HEADER) :]
    if tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (entries,) = struct.unpack_from(order + "H", tiff, ifd)
        for n in range(min(entries, 1024)):
            tag, kind, _count = struct.unpack_from(order + "HHI", tiff, ifd + 2 + 12 * n)
            if tag == ORIENTATION and kind == 3:
                (value,) = struct.unpack_from(order + "H", tiff, ifd + 2 + 12 * n + 8)
                return value if 1 <= value <= 8 else None
    except struct.error:
        return None
    return None


def orientation_only(value: int) -> bytes:
    """TIFF-structured EXIF data holding nothing but the orientation (26 bytes)."""
    return b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">HHHIHHI", 1, ORIENTATION, 3, 1, value, 0, 0)


def kept_exif(data: bytes, room: int, header: bytes = b"") -> bytes:
    """What replaces EXIF data in `room` bytes: the orientation only when it turns the picture, else nothing."""
    turned = orientation(data)
    if turned in (None, 1) or len(header) + 26 > room:
        return b""
    return header + orientation_only(turned)
