"""JPEG: metadata segments blanked before the first scan and between scans, anything after the end zeroed."""

from __future__ import annotations

import re
import struct

from pv_gallery.strip.reader import CannotStrip, Patch, SourceReader
from pv_gallery.strip.tiff import EXIF_HEADER, kept_exif

SOS, EOI = 0xDA, 0xD9
STANDALONE = {0x01, *range(0xD0, 0xD9)}  # TEM, RSTn, SOI: no length follows
APP0, APP1, APP2, APP14, COM = 0xE0, 0xE1, 0xE2, 0xEE, 0xFE
# In entropy-coded data 0xFF is followed by 0x00 (stuffing) or a restart marker; anything else is a marker.
NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _kept(marker: int, payload_start: bytes) -> bool:
    """Segments a decoder needs: JFIF (APP0), the colour profile (APP2 ICC_PROFILE), Adobe's colour
    transform (APP14). Every other APPn and COM is metadata."""
    if marker in (APP0, APP14):
        return True
    return marker == APP2 and payload_start.startswith(b"ICC_PROFILE\x00")


def _blank(reader: SourceReader, marker: int, at: int, length: int) -> Patch | None:
    if not (0xE0 <= marker <= 0xEF or marker == COM) or _kept(marker, reader.read(at, 12)):
        return None
    payload = reader.read(at, length) if marker == APP1 else b""
    head = kept_exif(payload, length, EXIF_HEADER) if payload.startswith(EXIF_HEADER) else b""
    return Patch(at, length, head)


def patches(reader: SourceReader) -> list[Patch]:
    if reader.exact(0, 2) != b"\xff\xd8":
        raise CannotStrip("not a JPEG")
    found: list[Patch] = []
    position, scanning = 2, False
    while True:
        reader.count()
        if scanning:  # inside entropy-coded data: find the next marker
            position = reader.search(NEXT_MARKER, position)
            if position < 0:
                return found  # no end marker: nothing after the image to blank
        head = reader.exact(position, 2)
        if head[0] != 0xFF:
            raise CannotStrip(f"no marker at byte {position}")
        marker = head[1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in STANDALONE:
            position += 2
            continue
        if marker == EOI:
            end = position + 2
            if end < reader.size:  # a second image (MPO), a motion photo's video, a vendor trailer
                found.append(Patch(end, reader.size - end))
            return found
        (length,) = struct.unpack(">H", reader.exact(position + 2, 2))
        if length < 2:
            raise CannotStrip(f"segment length {length} at byte {position}")
        patch = _blank(reader, marker, position + 4, length - 2)
        if patch:
            found.append(patch)
        position += 2 + length
        scanning = marker == SOS
