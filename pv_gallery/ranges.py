"""HTTP Range requests (RFC 9110 section 14): what a video element sends when the viewer seeks."""

from __future__ import annotations

import re

_SINGLE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """The range lies outside the object: answer 416 with `Content-Range: bytes */size`."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) a Range header asks for, or None to send the whole object.

    Multiple ranges and syntax we do not understand are ignored (the whole object is a valid
    answer to those); a well-formed range outside the object is RangeNotSatisfiable.
    """
    if not header:
        return None
    match = _SINGLE.match(header)
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # a suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - length), size - 1
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable(header)
    end = int(last) if last else size - 1
    if end < start:
        return None
    return start, min(end, size - 1)
