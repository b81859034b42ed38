"""Originals leave without EXIF: the metadata of a stored photo or video is blanked while it streams.

The original in the store stays as it was (the audit's copy). What the gallery sends is the same
bytes with the metadata overwritten in place - the same length, so Content-Length, Range requests
and the browser's seeking work exactly as on the original:

- JPEG: EXIF (APP1) becomes a minimal EXIF with the orientation only (the photo still shows
  upright), XMP, IPTC/Photoshop (APP13), other vendor segments and comments are zeroed, and anything
  after the image's end (a second image of an MPO, a motion photo's video) is zeroed;
- PNG: eXIf, tEXt, zTXt, iTXt and tIME chunks become an empty private chunk (valid CRC);
- WebP and AVI (RIFF): EXIF, XMP, INFO lists and stream data (strd) become JUNK;
- MP4, MOV (ISO BMFF): `udta` and `meta` boxes of the movie and its tracks (GPS `©xyz`, camera
  make and serial) become `free` boxes;
- HEIC/HEIF: the Exif and XMP items are zeroed (an empty EXIF is left in the Exif item).
GIF has no EXIF. A file whose structure cannot be read within the bounds is not sent at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

BLOCK = 256 * 1024  # one range request while walking a structure
SCAN_BLOCK = 1024 * 1024  # one range request while scanning a JPEG's image data for its end
CACHED_BLOCKS = 8
MAX_STRUCTURES = 50_000  # segments, chunks or boxes one file may have before we give up on it


class CannotStrip(Exception):
    """The file's structure could not be read within the bounds: it is not sent."""


@dataclass(frozen=True)
class Patch:
    """Bytes [offset, offset + length) of the original are sent as `head` followed by zeros."""

    offset: int
    length: int
    head: bytes = b""

    def piece(self, start: int, end: int) -> bytes:
        """The replacement for original bytes [start, end), which lie inside the patch."""
        first, last = start - self.offset, end - self.offset
        head = self.head[first:last]
        return head + bytes(max(0, last - first - len(head)))


class SourceReader:
    """Random reads over one stored object (range requests, a few cached blocks), counted and bounded."""

    def __init__(self, read_range: Callable[[int, int], bytes], size: int):
        self.read_range, self.size = read_range, size
        self._blocks: dict[int, bytes] = {}
        self.structures = 0

    def _block(self, index: int) -> bytes:
        if index not in self._blocks:
            if len(self._blocks) >= CACHED_BLOCKS:
                self._blocks.pop(next(iter(self._blocks)))
            self._blocks[index] = self.read_range(index * BLOCK, BLOCK)
        return self._blocks[index]

    def read(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes from `offset` (fewer at the end of the object)."""
        length = max(0, min(length, self.size - offset))
        parts, position = [], offset
        while position < offset + length:
            index, within = divmod(position, BLOCK)
            piece = self._block(index)[within : within + offset + length - position]
            if not piece:
                break
            parts.append(piece)
            position += len(piece)
        return b"".join(parts)

    def exact(self, offset: int, length: int) -> bytes:
        data = self.read(offset, length)
        if len(data) != length:
            raise CannotStrip(f"the file ends inside a structure at byte {offset}")
        return data

    def count(self) -> None:
        self.structures += 1
        if self.structures > MAX_STRUCTURES:
            raise CannotStrip(f"more than {MAX_STRUCTURES} structures")

    def search(self, pattern: re.Pattern[bytes], start: int, reach: int = 16) -> int:
        """The offset of the first match of `pattern` (at most `reach` bytes long) at or after `start`, or -1;
        reads forward in large pieces, none of them kept."""
        position, carry = start, b""
        while position < self.size:
            piece = self.read_range(position, SCAN_BLOCK)
            if not piece:
                break
            window = carry + piece
            found = pattern.search(window)
            if found:
                return position - len(carry) + found.start()
            carry = window[-reach:]
            position += len(piece)
        return -1


def metadata_patches(reader: SourceReader, content_type: str) -> list[Patch]:
    """The patches that blank the metadata of a file of this type; CannotStrip when its structure does not
    read, or when the type has no metadata remover (and so may not be sent)."""
    from pv_gallery.strip import bmff, jpeg, png, riff

    strippers: dict[str, Callable[[SourceReader], list[Patch]]] = {
        "image/jpeg": jpeg.patches,
        "image/png": png.patches,
        "image/webp": riff.patches,
        "video/x-msvideo": riff.patches,
        "video/mp4": bmff.patches,
        "video/quicktime": bmff.patches,
        "image/heic": bmff.patches,
        "image/heif": bmff.patches,
        "image/gif": lambda _reader: [],  # GIF has no EXIF
    }
    stripper = strippers.get(content_type)
    if stripper is None:
        raise CannotStrip(f"no metadata remover for {content_type}")
    try:
        found = sorted(stripper(reader), key=lambda p: p.offset)
    except (IndexError, ValueError) as exc:  # a structure that contradicts itself
        raise CannotStrip(f"unreadable structure: {exc}") from None
    return [p for p in found if p.length > 0]


def patched(chunks: Iterable[bytes], start: int, patches: list[Patch]) -> Iterator[bytes]:
    """The chunks of the original (which begin at byte `start`) with the patches applied."""
    position = start
    for chunk in chunks:
        end = position + len(chunk)
        touching = [p for p in patches if p.offset < end and p.offset + p.length > position]
        if touching:
            data = bytearray(chunk)
            for patch in touching:
                lo, hi = max(position, patch.offset), min(end, patch.offset + patch.length)
                data[lo - position : hi - position] = patch.piece(lo, hi)
            chunk = bytes(data)
        position = end
        yield chunk
