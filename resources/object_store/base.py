"""What every object store offers, and what both stores share: the interface, its errors, metadata as S3
carries it, safe keys, and range reads."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import quote, unquote

from pv_model.keys import mask_key

# Uploads from the staging file: minio reads a file up to one part into memory and sends bigger ones
# as multipart, a part at a time; 5 MiB (S3's smallest part) keeps each worker's memory small.
PART_SIZE = 5 * 1024 * 1024
COPY_BUFFER = 1024 * 1024
# Chunks of a ranged read (video seeking): small enough that a cancelled request wastes little.
RANGE_CHUNK = 256 * 1024


class ObjectStoreError(Exception):
    """The object store failed; the message names the store and the key, with no credentials."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    metadata: Mapping[str, str] = field(default_factory=dict)
    # A validator that changes whenever the bytes may have (for HTTP ETag and caches); "" when unknown.
    etag: str = ""
    content_type: str = ""


class ObjectStore(Protocol):
    def describe(self) -> str: ...
    def ensure_ready(self) -> None: ...
    def list_prefix(self, prefix: str) -> Iterator[StoredObject]: ...
    def stat(self, key: str) -> StoredObject | None: ...
    def put_file(self, key: str, path: Path, content_type: str, metadata: Mapping[str, str]) -> None: ...
    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]: ...
    def get_range(self, key: str, offset: int, length: int) -> bytes: ...


# S3 allows 2 KB of user metadata per object in total; no one of our values may take more than this.
MAX_METADATA_VALUE_CHARS = 256
_METADATA_SAFE = " -_.:/+=@"


def encode_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """S3 user metadata travels in HTTP headers: ASCII only, so non-ASCII values are percent-encoded,
    and bounded: a value from a station (a 70,000-character recordId) is cut, with a marker holding
    the sha256 of the whole value, so the object is still stored and still traceable."""
    return {key: _bounded(str(value)) for key, value in metadata.items()}


def _bounded(value: str) -> str:
    encoded = quote(value, safe=_METADATA_SAFE)
    if len(encoded) <= MAX_METADATA_VALUE_CHARS:
        return encoded
    marker = f"~cut-sha256:{hashlib.sha256(value.encode('utf-8')).hexdigest()[:16]}"
    room, kept = MAX_METADATA_VALUE_CHARS - len(marker), []
    for char in value:  # whole characters only: never half a percent-escape
        piece = quote(char, safe=_METADATA_SAFE)
        if len(piece) > room:
            break
        kept.append(piece)
        room -= len(piece)
    return "".join(kept) + marker


# S3 error codes that say the store (bucket, credentials, service) is unusable, not this one object.
STORE_LEVEL_ERRORS = frozenset(
    {
        "AccessDenied",
        "AllAccessDisabled",
        "ExpiredToken",
        "InternalError",
        "InvalidAccessKeyId",
        "InvalidBucketName",
        "InvalidToken",
        "NoSuchBucket",
        "RequestTimeTooSkewed",
        "ServiceUnavailable",
        "SignatureDoesNotMatch",
        "SlowDown",
    }
)


class ObjectRejected(Exception):
    """The store is up but refused this one object (metadata too large, a bad argument): an item failure."""


def rejects_only_this_object(code: str | None) -> bool:
    return bool(code) and code not in STORE_LEVEL_ERRORS


def decode_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    return {key: unquote(value) for key, value in metadata.items()}


def check_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or any(part in ("..", ".") for part in parts) or "\\" in key:
        raise ObjectStoreError(f"refusing unsafe object key {mask_key(key)!r}")
    return key


class RangeReads:
    """`get_range` for a store that streams ranges: a poster frame seeks, it does not download."""

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        raise NotImplementedError

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """`length` bytes from `offset` (fewer at the end of the object, none past it)."""
        if length <= 0:
            return b""
        return b"".join(self.open_range(key, offset, offset + length - 1))
