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

from collections.abc import Callable, Iterable, Iterator

from pv_gallery.strip import bmff, jpeg, png, riff
from pv_gallery.strip.reader import CannotStrip, Patch, SourceReader

__all__ = ["CannotStrip", "Patch", "SourceReader", "metadata_patches", "patched"]


def metadata_patches(reader: SourceReader, content_type: str) -> list[Patch]:
    """The patches that blank the metadata of a file of this type; CannotStrip when its structure does not
    read, or when the type has no metadata remover (and so may not be sent)."""
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
