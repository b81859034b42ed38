"""item id -> row number: the media route's look-up, by binary search over the ids as integers."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_HEX[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_HEX16 = re.compile(r"^[0-9a-f]{16}$")


class IndexUnreadable(Exception):
    """The index is there but is not a gallery index this viewer can read."""


def hex16_values(column: pa.ChunkedArray) -> np.ndarray | None:
    """The contract's 16-hex-digit ids as uint64s, straight from Arrow's buffers; None if any id is not one."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0 or array.null_count or array.type not in (pa.string(), pa.large_string()):
        return None
    offset_type = np.int64 if array.type == pa.large_string() else np.int32
    offsets = np.frombuffer(array.buffers()[1], offset_type)[array.offset : array.offset + len(array) + 1]
    if not (np.diff(offsets) == 16).all():
        return None
    nibbles = _HEX[np.frombuffer(array.buffers()[2], np.uint8)[offsets[0] : offsets[-1]].reshape(-1, 16)]
    if (nibbles == 255).any():
        return None
    packed = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return np.ascontiguousarray(packed).view(">u8").ravel().astype(np.uint64)


class ItemLookup:
    """item id -> row number by binary search over a sorted copy of the ids.

    The contract's ids are 16 hex digits, sorted as uint64s (8 MB and a fraction of a second for
    1,000,000 ids; sorting them as Python strings took seconds). Any other form is not an index
    this viewer reads.
    """

    def __init__(self, column: pa.ChunkedArray):
        keys = hex16_values(column)
        if keys is None:
            raise IndexUnreadable("item_id is not 16 hex digits in every row")
        self._order = np.argsort(keys)
        self._sorted = keys[self._order]

    @staticmethod
    def _key(item_id: str) -> np.uint64 | None:
        return np.uint64(int(item_id, 16)) if _HEX16.match(item_id) else None

    def find(self, item_id: str) -> int | None:
        key = self._key(item_id)
        if key is None or not len(self._sorted):
            return None
        pos = int(np.searchsorted(self._sorted, key))
        if pos >= len(self._sorted) or self._sorted[pos] != key:
            return None
        return int(self._order[pos])
