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
from collections.abc import Iterable, Iterator

from . import pictures

KINDS = ("jpeg", "png", "mp4", "gif", "heic")
EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "mp4": ".mp4", "gif": ".gif", "heic": ".heic"}
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "mp4": "video/mp4", "gif": "image/gif", "heic": "image/heic"}

DEFAULT_CHUNK = 64 * 1024
_BLOCK = 1 << 20  # the random body repeats a 1 MiB block, each copy with its own counter


# ----------------------------------------------------------------------------- sizes


def min_size(kind: str) -> int:
    """The smallest size a file of this kind can have (a tiny real picture or video)."""
    _check_kind(kind)
    return pictures.MIN_SIZES[kind]


def _check_kind(kind: str) -> None:
    if kind not in pictures.REAL_KINDS:
        raise ValueError(f"unknown media kind {kind!r}; expected one of {KINDS}")


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

    A real, decodable file (pictures.py) padded to `size`; `label` is written on photos."""
    _check_kind(kind)
    if chunk <= 0:
        raise ValueError("chunk must be positive")
    if size < min_size(kind):
        raise ValueError(f"a {kind} file needs at least {min_size(kind)} bytes, got {size}")
    noise = functools.partial(_body_blocks, seed)
    return _rechunk(pictures.real_pieces(kind, seed, size, label, noise), chunk)


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
