"""HTTP Range requests (RFC 9110 section 14): what a video element sends when the viewer seeks."""

from __future__ import annotations

import re

_SINGLE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
# A position with more digits than this lies beyond any object (and Python refuses to parse 4,300+ digits).
MAX_DIGITS = 18


class RangeNotSatisfiable(Exception):
    """The range lies outside the object: answer 416 with `Content-Range: bytes */size`."""


def _position(digits: str) -> int | None:
    """The number, or None for one too long to be a position in any object."""
    return int(digits) if len(digits.lstrip("0")) <= MAX_DIGITS else None


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) a Range header asks for, or None to send the whole object.

    Multiple ranges and syntax we do not understand are ignored (the whole object is a valid
    answer to those); a well-formed range outside the object is RangeNotSatisfiable.
    """
    if not header or len(header) > 10_000:
        return None
    match = _SINGLE.match(header)
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # a suffix: the last N bytes
        length = _position(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - length) if length is not None else 0, size - 1
    start = _position(first)
    if start is None or start >= size:
        raise RangeNotSatisfiable(header)
    end = _position(last) if last else size - 1
    if end is None:
        end = size - 1
    if end < start:
        return None
    return start, min(end, size - 1)
