"""What every format's remover works with: bounded random reads over the stored object, and the patches
they return. Its own module so the removers (bmff, jpeg, png, riff) and the package import it, not each other."""

from __future__ import annotations

import re
from collections.abc import Callable
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
