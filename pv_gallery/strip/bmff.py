"""ISO BMFF (MP4, MOV, HEIC/HEIF): a movie's metadata boxes become `free`; a HEIF's Exif and XMP items are zeroed."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from pv_gallery.strip.reader import CannotStrip, Patch, SourceReader

HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
MOVIE_METADATA = {b"udta", b"meta"}  # user data (©xyz GPS, make, model, serial) and QuickTime/iTunes metadata
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
MAX_TABLE = 4 * 1024 * 1024  # iinf / iloc read whole: larger ones are not a photo's
# A HEIF Exif item's data: the offset of the TIFF header (0), then a TIFF header with an empty first IFD.
EMPTY_EXIF_ITEM = b"\x00\x00\x00\x00" + b"MM\x00*\x00\x00\x00\x08" + b"\x00\x00\x00\x00\x00\x00"


def boxes(reader: SourceReader, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, box start, payload start, box end) of each box in [start, end)."""
    position = start
    while position + 8 <= end:
        reader.count()
        size, kind = struct.unpack(">I4s", reader.exact(position, 8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", reader.exact(position + 8, 8))
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise CannotStrip(f"box {kind!r} at byte {position} runs past its container")
        yield kind, position, position + header, position + size
        position += size


def _free(reader: SourceReader, box: int, payload: int, end: int) -> Patch:
    """The box as a `free` box of the same size, its payload zeroed."""
    header = reader.exact(box, payload - box)
    return Patch(box, end - box, header[:4] + b"free" + header[8:])


def _movie(reader: SourceReader, start: int, end: int, found: list[Patch]) -> None:
    for kind, box, payload, box_end in boxes(reader, start, end):
        if kind in MOVIE_METADATA:
            found.append(_free(reader, box, payload, box_end))
        elif kind == b"trak":
            _movie(reader, payload, box_end, found)


def _uint(data: bytes, at: int, size: int) -> tuple[int, int]:
    if size == 0:
        return 0, at
    if at + size > len(data):
        raise CannotStrip("an item table ends early")
    return int.from_bytes(data[at : at + size], "big"), at + size


def _metadata_items(reader: SourceReader, payload: int, end: int) -> dict[int, bytes]:
    """Item id -> b"Exif" or b"mime" (XMP) from the iinf box."""
    items = {}
    for kind, _box, start, box_end in boxes(reader, payload, end):
        if kind != b"iinf":
            continue
        version = reader.exact(start, 1)[0]
        first = start + 4 + (2 if version == 0 else 4)
        for entry, _b, entry_start, entry_end in boxes(reader, first, box_end):
            if entry != b"infe" or entry_end - entry_start > 4096:
                continue
            data = reader.exact(entry_start, entry_end - entry_start)
            if data[0] < 2:
                continue
            item_id, at = _uint(data, 4, 2 if data[0] == 2 else 4)
            item_type = data[at + 2 : at + 6]
            content_type = data[at + 6 :].split(b"\x00", 1)[0].lower()
            if item_type == b"Exif" or (item_type == b"mime" and (b"xmp" in content_type or b"rdf" in content_type)):
                items[item_id] = item_type
    return items


def _extents(data: bytes, wanted: dict[int, bytes]) -> Iterator[tuple[int, int, int, int]]:
    """(item id, construction method, offset, length) of each extent of the wanted items, from iloc."""
    version = data[0]
    sizes, more = data[4], data[5]
    offset_size, length_size, base_size = sizes >> 4, sizes & 15, more >> 4
    index_size = more & 15 if version in (1, 2) else 0
    count, at = _uint(data, 6, 2 if version < 2 else 4)
    for _ in range(count):
        item_id, at = _uint(data, at, 2 if version < 2 else 4)
        method = 0
        if version in (1, 2):
            method, at = _uint(data, at, 2)
            method &= 15
        _reference, at = _uint(data, at, 2)
        base, at = _uint(data, at, base_size)
        extents, at = _uint(data, at, 2)
        for _ in range(extents):
            _index, at = _uint(data, at, index_size)
            offset, at = _uint(data, at, offset_size)
            length, at = _uint(data, at, length_size)
            if item_id in wanted:
                yield item_id, method, base + offset, length


def _heif(reader: SourceReader, payload: int, end: int, found: list[Patch]) -> None:
    children = payload + 4  # meta is a full box: version and flags first
    wanted = _metadata_items(reader, children, end)
    if not wanted:
        return
    idat = next((start for kind, _b, start, _e in boxes(reader, children, end) if kind == b"idat"), None)
    for kind, _box, start, box_end in boxes(reader, children, end):
        if kind != b"iloc":
            continue
        if box_end - start > MAX_TABLE:
            raise CannotStrip("item location table too large")
        first_of = set()
        for item_id, method, offset, length in _extents(reader.exact(start, box_end - start), wanted):
            if length == 0 or method not in (0, 1) or (method == 1 and idat is None):
                raise CannotStrip(f"metadata item {item_id} stored in a way not handled (method {method})")
            offset += idat if method == 1 else 0
            exif_head = wanted[item_id] == b"Exif" and item_id not in first_of and length >= len(EMPTY_EXIF_ITEM)
            found.append(Patch(offset, length, EMPTY_EXIF_ITEM if exif_head else b""))
            first_of.add(item_id)


def patches(reader: SourceReader) -> list[Patch]:
    found: list[Patch] = []
    top = list(boxes(reader, 0, reader.size))
    if not top or top[0][0] != b"ftyp":
        raise CannotStrip("not an ISO BMFF file (no ftyp box first)")
    _kind, _box, start, end = top[0]
    brands = reader.exact(start, min(end - start, 256))
    heif = any(brands[n : n + 4] in HEIF_BRANDS for n in range(0, len(brands), 4))
    for kind, box, payload, box_end in top[1:]:
        if kind == b"moov":
            _movie(reader, payload, box_end, found)
        elif kind == b"meta" and heif:
            _heif(reader, payload, box_end, found)
        elif kind in MOVIE_METADATA or (kind == b"uuid" and reader.read(payload, 16) == XMP_UUID):
            found.append(_free(reader, box, payload, box_end))
    return found
