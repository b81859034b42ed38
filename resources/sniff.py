"""Deciding what a downloaded file is from its first bytes, never from its headers."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import filetype
from PIL import Image, UnidentifiedImageError

# How many leading bytes the sniffer needs; filetype's own matchers look at most this far.
SNIFF_BYTES = 262


@dataclass(frozen=True)
class MediaType:
    kind: str  # "photo" or "video"
    extension: str  # with the dot: ".jpg"
    mime: str


# filetype's extension -> what pv-media stores. Anything else is refused.
ACCEPTED = {
    "jpg": MediaType("photo", ".jpg", "image/jpeg"),
    "png": MediaType("photo", ".png", "image/png"),
    "gif": MediaType("photo", ".gif", "image/gif"),
    "webp": MediaType("photo", ".webp", "image/webp"),
    "heic": MediaType("photo", ".heic", "image/heic"),
    "mp4": MediaType("video", ".mp4", "video/mp4"),
    "m4v": MediaType("video", ".mp4", "video/mp4"),
    "mov": MediaType("video", ".mov", "video/quicktime"),
    "avi": MediaType("video", ".avi", "video/x-msvideo"),
}
# ISO-BMFF brands of HEIF images that filetype does not name.
HEIF_BRANDS = {b"mif1", b"msf1", b"heix", b"hevc", b"hevx", b"heif"}
HEIF = MediaType("photo", ".heif", "image/heif")


class NotMedia(ValueError):
    """The bytes are not an accepted photo or video; the message says what they look like."""


def looks_like_html(body: bytes) -> bool:
    """A login or gateway error page where a file or JSON was expected."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype", b"<html", b"<head", b"<body")) or b"<html" in head


def describe_non_media(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if looks_like_html(head):
        return "HTML page instead of media"
    if text.startswith((b"{", b"[")):
        return "JSON body instead of media"
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        return "XML/markup body instead of media"
    if not head:
        return "empty body"
    return f"unrecognised file type (first bytes {head[:8].hex()})"


def sniff_media_type(head: bytes) -> MediaType:
    """Return the media type of a file from its first SNIFF_BYTES bytes, or raise NotMedia."""
    guess = filetype.guess(head) if head else None
    if guess is not None and guess.extension in ACCEPTED:
        return ACCEPTED[guess.extension]
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HEIF
    raise NotMedia(describe_non_media(head))


# The photo types whose header Pillow reads (HEIC/HEIF need a plugin; videos are not images).
_PILLOW_CHECKED = {".jpg": "JPEG", ".png": "PNG", ".gif": "GIF", ".webp": "WEBP"}


def check_media_header(media_type: MediaType, path: Path) -> None:
    """Raise NotMedia unless a photo's header parses as its type says.

    A body that starts with the JPEG magic and goes on with `<html>...502 Bad Gateway` passes the
    magic-byte sniff; Pillow's `open` reads the header (markers, dimensions) without decoding pixels.
    """
    expected = _PILLOW_CHECKED.get(media_type.extension)
    if expected is None:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=[expected]) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        return  # the header parsed: a very large picture is still a picture
    except (UnidentifiedImageError, SyntaxError, OSError, ValueError) as exc:
        raise NotMedia(f"starts like {expected} but its header does not parse ({exc.__class__.__name__})") from None
    if width <= 0 or height <= 0:
        raise NotMedia(f"{expected} header with no picture size")
