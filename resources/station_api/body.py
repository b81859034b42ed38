"""Reading a response body the way pv-media trusts it: decoded here, bounded, and complete.

urllib3 would decode gzip for us, but it neither caps what a small compressed body expands to
(a 1 MB gzip page decoded to 2.3 GB) nor notices a compressed stream that stops half-way inside
complete HTTP framing (a fragment stored as a photo). So the raw bytes are read with `read1`
(whatever has arrived, never waiting for a full 256 KiB chunk) and decoded here:

- every decompression step is limited to one chunk of output, and the decoded total is
  checked against a cap as it grows;
- a compressed stream must reach its end marker, and a body with a Content-Length must have
  all of it, or the body is `BodyCutOff` (transient: worth another try, never an object).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

# What we ask stations for: the codings decoded below, nothing else (no br/zstd surprises).
ACCEPT_ENCODING = "gzip, deflate"


class BodyCutOff(Exception):
    """The body ended before its end: the connection closed early or the compressed stream stopped."""


class BodyTooLarge(Exception):
    """The decoded body grew past the cap."""


class UnsupportedEncoding(Exception):
    """A Content-Encoding we did not ask for and cannot decode."""


class _Decoder:
    """One zlib decompressor for gzip (also several members) or deflate (zlib-wrapped or raw)."""

    def __init__(self, coding: str):
        self.coding = coding
        self._wbits = 16 + zlib.MAX_WBITS if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._obj = zlib.decompressobj(self._wbits)
        self._started = False
        self.ended = False

    def feed(self, data: bytes, max_out: int) -> Iterator[bytes]:
        """Decoded pieces of at most `max_out` bytes each: a bomb never expands all at once."""
        pending = data
        while pending:
            if self.ended:
                if self.coding == "deflate":
                    raise BodyCutOff("data after the end of the deflate stream")
                self._obj = zlib.decompressobj(self._wbits)  # another gzip member
                self.ended = False
            try:
                out = self._obj.decompress(pending, max_out)
            except zlib.error:
                if self.coding == "deflate" and not self._started:  # raw deflate, as some servers send
                    self._wbits = -zlib.MAX_WBITS
                    self._obj = zlib.decompressobj(self._wbits)
                    self._started = True
                    continue
                raise BodyCutOff(f"the {self.coding} stream is corrupt") from None
            self._started = True
            if out:
                yield out
            if self._obj.eof:
                self.ended = True
                pending = self._obj.unused_data
            else:
                pending = self._obj.unconsumed_tail
                if not pending:
                    break
        # Output still buffered inside zlib (input consumed, output limited).
        while not self._obj.eof and self._obj.unconsumed_tail == b"":
            out = self._obj.decompress(b"", max_out)
            if not out:
                break
            yield out
        if self._obj.eof:
            self.ended = True


def _codings(headers: Any) -> list[str]:
    value = (headers.get("Content-Encoding") or "").lower()
    codings = [c.strip() for c in value.split(",") if c.strip() and c.strip() != "identity"]
    for coding in codings:
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise UnsupportedEncoding(f"Content-Encoding {coding!r} was not asked for")
    if len(codings) > 1:
        raise UnsupportedEncoding("more than one Content-Encoding")
    return codings


def iter_body(response: Any, *, chunk_bytes: int, max_decoded: int | None) -> Iterator[bytes]:
    """The decoded body of a streamed `requests` response, in pieces of at most `chunk_bytes`.

    Raises BodyTooLarge past `max_decoded` decoded bytes, BodyCutOff when the body is incomplete,
    UnsupportedEncoding for a coding we cannot decode; network errors pass through."""
    raw = response.raw
    codings = _codings(response.headers)
    decoder = _Decoder(codings[0]) if codings else None
    declared = (
        None
        if "chunked" in (response.headers.get("Transfer-Encoding") or "").lower()
        else declared_length(response.headers)
    )
    received = decoded = 0
    while True:
        data = raw.read1(chunk_bytes, decode_content=False)
        if not data:
            break
        received += len(data)
        pieces = decoder.feed(data, chunk_bytes) if decoder is not None else (data,)
        for piece in pieces:
            decoded += len(piece)
            if max_decoded is not None and decoded > max_decoded:
                raise BodyTooLarge(f"body exceeds the {max_decoded}-byte cap (decoded)")
            yield piece
    if declared is not None and received < declared:
        raise BodyCutOff(f"body ended after {received} of {declared} bytes")
    if decoder is not None and not decoder.ended:
        raise BodyCutOff(f"the {decoder.coding} stream ended before its end ({received} bytes received)")


def declared_length(headers: Any) -> int | None:
    """The Content-Length a response announces, when it is a number."""
    value = headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
