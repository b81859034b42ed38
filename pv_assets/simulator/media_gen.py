"""Deterministic media of a controlled size, generated as a stream.

Photos and videos are real, decodable files (pictures.py) padded with pseudo-random bytes
derived from a seed, so the same (kind, seed, size) always gives the same bytes and the same
sha256, and a 1 GiB video can be served without ever existing in memory or on disk.
"""

from __future__ import annotations

import functools
import hashlib
import random
import struct
import zlib
from collections.abc import Iterable, Iterator

from . import pictures

KINDS = ("jpeg", "png", "mp4", "gif", "heic")
EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "mp4": ".mp4", "gif": ".gif", "heic": ".heic"}
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "mp4": "video/mp4", "gif": "image/gif", "heic": "image/heic"}

DEFAULT_CHUNK = 64 * 1024
_BLOCK = 1 << 20  # the random body repeats a 1 MiB block, each copy with its own counter


# ----------------------------------------------------------------------------- headers


def _dimensions(seed: int) -> tuple[int, int]:
    return 640 + seed % 3361, 480 + (seed >> 12) % 2521


def _jpeg_parts(seed: int, size: int) -> tuple[bytes, bytes]:
    # SOI + JFIF APP0 segment; EOI at the end.
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x01\x01\x00" + struct.pack(">HH", 1, 1) + b"\x00\x00"
    return b"\xff\xd8" + app0, b"\xff\xd9"


def _png_chunk_header(length: int, chunk_type: bytes) -> bytes:
    return struct.pack(">I", length) + chunk_type


def _png_parts(seed: int, size: int) -> tuple[bytes, bytes]:
    width, height = _dimensions(seed)
    ihdr_data = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = _png_chunk_header(13, b"IHDR") + ihdr_data + struct.pack(">I", _crc(b"IHDR" + ihdr_data))
    iend = _png_chunk_header(0, b"IEND") + struct.pack(">I", _crc(b"IEND"))
    head_without_idat = b"\x89PNG\r\n\x1a\n" + ihdr
    idat_trailer = b"\x00\x00\x00\x00"  # the IDAT "crc": not checked by anyone sniffing
    tail = idat_trailer + iend
    idat_len = size - len(head_without_idat) - 8 - len(tail)
    return head_without_idat + _png_chunk_header(max(idat_len, 0), b"IDAT"), tail


def _crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def _mp4_parts(seed: int, size: int) -> tuple[bytes, bytes]:
    ftyp = struct.pack(">I", 24) + b"ftyp" + b"isom" + struct.pack(">I", 0x200) + b"isom" + b"mp41"
    remaining = size - len(ftyp)
    if remaining < 2**32:
        mdat = struct.pack(">I", max(remaining, 0)) + b"mdat"
    else:  # 64-bit "largesize" box for files of 4 GiB and more
        mdat = struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", remaining)
    return ftyp + mdat, b""


def _gif_parts(seed: int, size: int) -> tuple[bytes, bytes]:
    width, height = _dimensions(seed)
    screen = struct.pack("<HH", width % 65536, height % 65536) + b"\x00\x00\x00"
    return b"GIF89a" + screen, b"\x3b"


_PARTS = {"jpeg": _jpeg_parts, "png": _png_parts, "mp4": _mp4_parts, "gif": _gif_parts}


def min_size(kind: str) -> int:
    """The smallest size a file of this kind can have (header plus trailer)."""
    if kind in pictures.REAL_KINDS:
        return pictures.MIN_SIZES[kind]
    head, tail = _parts(kind, 0, 1 << 16)
    return len(head) + len(tail)


def _parts(kind: str, seed: int, size: int) -> tuple[bytes, bytes]:
    try:
        make = _PARTS[kind]
    except KeyError:
        raise ValueError(f"unknown media kind {kind!r}; expected one of {KINDS}") from None
    return make(seed, size)


# ----------------------------------------------------------------------------- body


@functools.lru_cache(maxsize=16)
def _base_block(seed: int, length: int) -> bytes:
    return random.Random(seed).randbytes(length)


def _body_blocks(seed: int, length: int) -> Iterator[bytes]:
    """`length` pseudo-random bytes: a cached random block, each copy stamped with its index."""
    if length <= 0:
        return
    base = _base_block(seed, min(_BLOCK, length))
    stamp_len = min(8, len(base))
    emitted = 0
    index = 0
    while emitted < length:
        block = struct.pack(">Q", index ^ (seed & 0xFFFFFFFFFFFFFFFF))[:stamp_len] + base[stamp_len:]
        block = block[: length - emitted]
        emitted += len(block)
        index += 1
        yield block


def _rechunk(pieces: Iterable[bytes], chunk: int) -> Iterator[bytes]:
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= chunk:
            yield bytes(buffer[:chunk])
            del buffer[:chunk]
    if buffer:
        yield bytes(buffer)


# ----------------------------------------------------------------------------- public API


def iter_media(kind: str, seed: int, size: int, chunk: int = DEFAULT_CHUNK, label: str = "") -> Iterator[bytes]:
    """Yield the bytes of a media file in chunks of `chunk` bytes, `size` bytes in all.

    Photos and videos are real (pictures.py): a decodable file padded to `size`; `label` is
    written on photos."""
    if chunk <= 0:
        raise ValueError("chunk must be positive")
    if kind in pictures.REAL_KINDS:
        noise = functools.partial(_body_blocks, seed)
        return _rechunk(pictures.real_pieces(kind, seed, size, label, noise), chunk)
    head, tail = _parts(kind, seed, size)
    if size < len(head) + len(tail):
        raise ValueError(f"a {kind} file needs at least {len(head) + len(tail)} bytes, got {size}")
    body_len = size - len(head) - len(tail)
    return _rechunk(_concat(head, _body_blocks(seed, body_len), tail), chunk)


def _concat(head: bytes, body: Iterable[bytes], tail: bytes) -> Iterator[bytes]:
    yield head
    yield from body
    if tail:
        yield tail


def media_bytes(kind: str, seed: int, size: int, label: str = "") -> bytes:
    """The whole file at once; for small files in tests only."""
    return b"".join(iter_media(kind, seed, size, label=label))


@functools.lru_cache(maxsize=4096)
def media_sha256(kind: str, seed: int, size: int, label: str = "") -> str:
    """Hex sha256 of the file, computed by streaming."""
    digest = hashlib.sha256()
    for piece in iter_media(kind, seed, size, chunk=_BLOCK, label=label):
        digest.update(piece)
    return digest.hexdigest()


def html_login_page() -> bytes:
    """The page a station's auth gateway returns (with HTTP 200) instead of a file."""
    return _LOGIN_PAGE


_LOGIN_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>用户登录 - 场站云系统</title>
<style>
body{font-family:"Microsoft YaHei",sans-serif;background:#f0f2f5}
.box{width:360px;margin:120px auto;background:#fff;padding:32px}
</style>
</head>
<body>
<div class="box">
  <h2>场站云系统 登录</h2>
  <form method="post" action="/login">
    <p><input name="username" placeholder="请输入账号"></p>
    <p><input name="password" type="password" placeholder="请输入密码"></p>
    <p><button type="submit">登录</button></p>
  </form>
  <p>会话已过期，请重新登录。</p>
</div>
</body>
</html>
""".encode()
