"""RIFF (WebP, AVI): metadata chunks renamed JUNK with their data zeroed (a WebP's EXIF keeps the orientation
only); WebP's metadata flags follow."""

from __future__ import annotations

import struct

from pv_gallery.strip.reader import CannotStrip, Patch, SourceReader
from pv_gallery.strip.tiff import kept_exif

JUNK = b"JUNK"
METADATA = {b"EXIF", b"XMP ", b"strd", b"IDIT", b"ISMP"}  # WebP EXIF/XMP; AVI stream data, dates, timecodes
WALKED_LISTS = {b"hdrl", b"strl"}  # AVI lists whose chunks may hold metadata
BLANKED_LISTS = {b"INFO"}  # AVI's text metadata: artist, comments, software, dates
VP8X_EXIF, VP8X_XMP = 0x08, 0x04


def _walk(reader: SourceReader, start: int, end: int, found: list[Patch]) -> None:
    position, vp8x_flags, exif_kept = start, None, False
    while position + 8 <= end:
        reader.count()
        kind, length = struct.unpack("<4sI", reader.exact(position, 8))
        data = position + 8
        if data + length > end:
            raise CannotStrip(f"chunk {kind!r} at byte {position} runs past its container")
        kept = kept_exif(reader.exact(data, min(length, 65536)), length) if kind == b"EXIF" else b""
        if kept:  # the orientation only: a browser still turns the picture upright
            found.append(Patch(data, length, kept))
        elif kind in METADATA:
            found.append(Patch(position, 8 + length, JUNK + struct.pack("<I", length)))
        elif kind == b"LIST" and length >= 4:
            list_type = reader.exact(data, 4)
            if list_type in BLANKED_LISTS:
                found.append(Patch(position, 8 + length, JUNK + struct.pack("<I", length)))
            elif list_type in WALKED_LISTS:
                _walk(reader, data + 4, data + length, found)
        elif kind == b"VP8X" and length >= 1:
            flags = reader.exact(data, 1)[0]
            vp8x_flags = (data, flags)
        exif_kept = exif_kept or bool(kept)
        position = data + length + (length & 1)  # chunks are padded to an even length
    if vp8x_flags:  # WebP: the flags say which metadata chunks there are
        at, flags = vp8x_flags
        cleared = flags & ~(VP8X_XMP | (0 if exif_kept else VP8X_EXIF))
        if cleared != flags:
            found.append(Patch(at, 1, bytes([cleared])))


def patches(reader: SourceReader) -> list[Patch]:
    kind, length, form = struct.unpack("<4sI4s", reader.exact(0, 12))
    if kind != b"RIFF" or form not in (b"WEBP", b"AVI "):
        raise CannotStrip("not a WebP or AVI file")
    found: list[Patch] = []
    _walk(reader, 12, min(reader.size, 8 + length), found)
    return found
