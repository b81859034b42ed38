"""Bounds on decoding what a station sent: pixels checked on the header, a process-wide pixel budget, and
which failures are the file's fault.

A picture's header says how large it is; a 28-byte WebP can say 13000 x 13000 and cost 3.4 GB to
decode. Every picture is measured before it is decoded: what it would decode to (after JPEG's DCT
scaling, where the format has it) must stay under PV_PREVIEW_MAX_PIXELS, and the preview workers of
a process together decode at most that many pixels at once (PixelBudget) - so peak memory depends
on the limit, never on the pictures or the number of workers.

A decoder that fails for lack of memory says nothing about the file: that is a resource failure,
retried on the next run. Only a file that really does not decode is recorded as undecodable.
"""

from __future__ import annotations

import contextlib
import struct
import threading
from collections.abc import Iterator

from pv_assets.gallery.previews.plan import TOO_MANY_PIXELS

RESOURCE = "resource"  # transient: not enough memory (or another resource) to decode now
# What decoders say when an allocation fails (libjpeg "Insufficient memory", libheif "Memory allocation
# error", Pillow's MemoryError); libwebp says only "could not create decoder object" - see webp_resource_failure.
_RESOURCE_WORDS = ("memory", "alloc", "enomem", "resource temporarily", "too many open files")


class TooManyPixels(Exception):
    """The picture would decode to more pixels than allowed; the message says how many and the limit."""


class ResourceFailure(Exception):
    """Decoding failed for lack of memory or another resource: the file is not at fault."""


def too_many(width: int, height: int, limit: int, what: str = "") -> TooManyPixels:
    return TooManyPixels(
        f"{TOO_MANY_PIXELS}: {width} x {height} = {width * height / 1e6:.1f} MP{what}, over the limit of "
        f"{limit / 1e6:g} MP (PV_PREVIEW_MAX_PIXELS)"
    )


def check_pixels(width: int, height: int, limit: int, what: str = "") -> None:
    if width <= 0 or height <= 0 or width * height > limit:
        raise too_many(width, height, limit, what)


def webp_size(head: bytes) -> tuple[int, int] | None:
    """The canvas a WebP's first 30 bytes (25 for VP8L) declare in its VP8X, VP8 or VP8L header; None if not a WebP.

    Read by hand: Pillow's WebP decoder reserves the whole canvas while it opens the file."""
    if len(head) < 25 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if len(head) < 30 and chunk != b"VP8L":
        return None
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(head[24:27], "little")
        height = 1 + int.from_bytes(head[27:30], "little")
        return width, height
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    return None


def riff_complete(head: bytes, size: int) -> bool:
    """The RIFF container says it is as long as the file is (not cut off)."""
    return len(head) >= 8 and 8 + int.from_bytes(head[4:8], "little") <= size


def is_resource_failure(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or any(word in str(exc).lower() for word in _RESOURCE_WORDS)


class PixelBudget:
    """At most `pixels` decoded at once across the threads of a process; a larger request waits its turn."""

    def __init__(self, pixels: int):
        self.pixels = pixels
        self._free = pixels
        self._ready = threading.Condition()

    @contextlib.contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        pixels = min(max(pixels, 0), self.pixels)
        with self._ready:
            self._ready.wait_for(lambda: self._free >= pixels)
            self._free -= pixels
        try:
            yield
        finally:
            with self._ready:
                self._free += pixels
                self._ready.notify_all()


_budgets: dict[int, PixelBudget] = {}
_budgets_guard = threading.Lock()


def budget_for(limit: int) -> PixelBudget:
    """The process's pixel budget for this limit (one per limit; the limit rarely changes in a process)."""
    with _budgets_guard:
        if limit not in _budgets:
            _budgets[limit] = PixelBudget(limit)
        return _budgets[limit]
