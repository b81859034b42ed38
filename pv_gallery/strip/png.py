"""PNG: text and time chunks turned into an empty private chunk of the same length; EXIF keeps the orientation only."""

from __future__ import annotations

import struct
import zlib

from pv_gallery.strip.reader import CannotStrip, Patch, SourceReader
from pv_gallery.strip.tiff import kept_exif

SIGNATURE = b"\x89PNG\r\n\x1a\n"
METADATA = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
# Ancillary (lower case), private (lower case), reserved bit (upper case), safe to copy: decoders skip it.
BLANK_TYPE = b"pvMx"


def patches(reader: SourceReader) -> list[Patch]:
    if reader.exact(0, 8) != SIGNATURE:
        raise CannotStrip("not a PNG")
    found, position = [], 8
    while position < reader.size:
        reader.count()
        length, kind = struct.unpack(">I4s", reader.exact(position, 8))
        if length > 0x7FFFFFFF:
            raise CannotStrip(f"chunk length {length} at byte {position}")
        if kind in METADATA:
            kept = kept_exif(reader.exact(position + 8, length), length) if kind == b"eXIf" else b""
            kind_now, data = (b"eXIf" if kept else BLANK_TYPE), kept + bytes(length - len(kept))
            # type, data (the orientation only, or zeros) and its CRC: one patch from the type to the CRC's end
            found.append(
                Patch(position + 4, 4 + length + 4, kind_now + data + struct.pack(">I", zlib.crc32(kind_now + data)))
            )
        position += 12 + length
        if kind == b"IEND":
            break
    return found
