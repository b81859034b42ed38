"""Where media and audit manifests are stored: MinIO (any S3 endpoint) or a local directory.

Both implement the same small interface; the pipeline never knows which one it has.
Errors name the store and the (masked) key, never the access or secret key.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import quote, unquote

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from pv_model.keys import mask_key
from resources.settings import Settings, settings
from resources.store_retry import store_retry

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


class MinioObjectStore(RangeReads):
    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = False,
        region: str | None = None,
        max_pool: int = 16,
        timeout_s: float = 30.0,
    ):
        # host:port, however it was written (MINIO_ENDPOINT may carry a scheme or a trailing slash)
        endpoint = endpoint.split("://", 1)[-1].rstrip("/")
        self.endpoint, self.bucket, self.secure = endpoint, bucket, secure
        http = urllib3.PoolManager(
            maxsize=max_pool,
            timeout=urllib3.Timeout(connect=5.0, read=timeout_s),
            retries=store_retry(),  # POSTs too: a multipart create or complete may meet a `503 SlowDown`
        )
        self._client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region, http_client=http
        )
        self._ready = False

    def describe(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}/{self.bucket}"

    def _error(self, action: str, key: str | None, exc: BaseException) -> ObjectStoreError:
        if isinstance(exc, S3Error) and exc.code == "NoSuchBucket":
            self._ready = False  # the bucket went (a store restarted empty): the next call makes it again
        target = f" {mask_key(key)!r}" if key else ""
        detail = exc.code if isinstance(exc, S3Error) else exc.__class__.__name__
        return ObjectStoreError(f"object store {self.describe()}: {action}{target} failed: {detail}")

    def ensure_ready(self) -> None:
        if self._ready:
            return
        try:
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
        except ValueError as exc:  # minio checks the bucket name before any request
            raise ObjectStoreError(f"object store {self.describe()}: {exc} (MINIO_BUCKET)") from None
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error("opening bucket", None, exc) from None
        self._ready = True

    def list_prefix(self, prefix: str) -> Iterator[StoredObject]:
        self.ensure_ready()
        try:
            for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                yield StoredObject(obj.object_name, obj.size or 0, etag=(obj.etag or "").strip('"'))
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error("listing", prefix, exc) from None

    def stat(self, key: str) -> StoredObject | None:
        self.ensure_ready()
        try:
            info = self._client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return None
            raise self._error("reading", key, exc) from None
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error("reading", key, exc) from None
        prefix = "x-amz-meta-"
        meta = {k[len(prefix) :].lower(): v for k, v in (info.metadata or {}).items() if k.lower().startswith(prefix)}
        etag = (info.etag or "").strip('"')
        return StoredObject(key, info.size or 0, decode_metadata(meta), etag=etag, content_type=info.content_type or "")

    def put_file(self, key: str, path: Path, content_type: str, metadata: Mapping[str, str]) -> None:
        self.ensure_ready()
        try:
            self._client.fput_object(
                self.bucket,
                check_key(key),
                str(path),
                content_type=content_type,
                metadata=encode_metadata(metadata),
                part_size=PART_SIZE,
                num_parallel_uploads=1,
            )
        except S3Error as exc:
            if rejects_only_this_object(exc.code):
                raise ObjectRejected(f"the store refused {mask_key(key)!r}: {exc.code}") from None
            raise self._error("uploading", key, exc) from None
        except ValueError as exc:  # minio's own checks of this object's arguments
            raise ObjectRejected(f"the store client refused {mask_key(key)!r} ({exc.__class__.__name__})") from None
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error("uploading", key, exc) from None

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.ensure_ready()
        try:
            self._client.put_object(self.bucket, check_key(key), io.BytesIO(data), len(data), content_type=content_type)
        except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise self._error("uploading", key, exc) from None

    def get_bytes(self, key: str) -> bytes:
        self.ensure_ready()
        try:
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise KeyError(key) from None
            raise self._error("reading", key, exc) from None
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error("reading", key, exc) from None

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes start..end (inclusive) of the object, streamed in chunks; never the whole file in memory."""
        self.ensure_ready()
        try:
            response = self._client.get_object(self.bucket, key, offset=start, length=end - start + 1)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise KeyError(key) from None
            if exc.code == "InvalidRange":  # a start past the end: no bytes, as a file read gives
                return iter(())
            raise self._error("reading", key, exc) from None
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error("reading", key, exc) from None
        return self._stream(response, key)

    def _stream(self, response, key: str) -> Iterator[bytes]:
        try:
            yield from response.stream(RANGE_CHUNK)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error("reading", key, exc) from None
        finally:
            response.close()
            response.release_conn()


TMP_PREFIX = ".tmp-"
TMP_MAX_AGE_S = 24 * 3600  # a temporary file whose writer cannot be told is removed once this old


def _remove_if_dead(path: Path) -> None:
    """Remove a temporary file of a writer that no longer runs (SIGKILL mid-copy)."""
    pid_text = path.name[len(TMP_PREFIX) :].split("-", 1)[0]
    try:
        if pid_text.isdigit() and int(pid_text) != os.getpid():
            os.kill(int(pid_text), 0)  # raises when the writer is gone
            return
        if pid_text.isdigit() or time.time() - path.stat().st_mtime < TMP_MAX_AGE_S:
            return
    except ProcessLookupError:
        pass
    except OSError:
        return
    path.unlink(missing_ok=True)


def _local_etag(info: os.stat_result) -> str:
    """A local file's validator, the same from a listing and a stat. No content hash (that reads the file):
    size, mtime and inode change whenever the file is replaced (an atomic write is a new inode)."""
    return hashlib.sha256(f"{info.st_size}-{info.st_mtime_ns}-{info.st_ino}".encode()).hexdigest()[:32]


class LocalDirObjectStore(RangeReads):
    """The embedded store for laptops and the demo: objects as files, metadata as JSON beside them."""

    META_DIR = ".pv-meta"

    def __init__(self, root: Path):
        self.root = Path(root)
        self._swept: set[Path] = set()  # folders whose dead writers' metadata temp files were removed

    def describe(self) -> str:
        return f"local directory {self.root}"

    def ensure_ready(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ObjectStoreError(f"object store {self.describe()}: cannot create it ({exc.strerror})") from None

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _meta_path(self, key: str) -> Path:
        return self.root / self.META_DIR / (check_key(key) + ".json")

    def list_prefix(self, prefix: str) -> Iterator[StoredObject]:
        # Walk only the directory the prefix names (or the one holding its last, partial segment).
        scan = self.root / prefix if not prefix or prefix.endswith("/") else (self.root / prefix).parent
        if not scan.is_dir() or not scan.resolve().is_relative_to(self.root.resolve()):
            return
        if scan not in self._swept:  # metadata writes killed mid-way: once per folder and store, not per listing
            self._swept.add(scan)
            for dirpath, _dirnames, filenames in os.walk(self.root / self.META_DIR / scan.relative_to(self.root)):
                for name in filenames:
                    if name.startswith(TMP_PREFIX):
                        _remove_if_dead(Path(dirpath) / name)
        for dirpath, dirnames, filenames in os.walk(scan):
            dirnames[:] = sorted(d for d in dirnames if d != self.META_DIR)
            for name in sorted(filenames):
                if name.startswith(TMP_PREFIX):
                    _remove_if_dead(Path(dirpath) / name)
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    info = full.stat()
                    yield StoredObject(key, info.st_size, etag=_local_etag(info))

    def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        if not path.is_file():
            return None
        meta_path = self._meta_path(key)
        meta = json.loads(meta_path.read_text("utf-8")) if meta_path.is_file() else {}
        info = path.stat()
        return StoredObject(key, info.st_size, meta, etag=_local_etag(info), content_type=meta.get("content-type", ""))

    def _atomic_write(self, target: Path, writer) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        # The writer's pid in the name: a listing removes what a killed process left (see _remove_if_dead).
        handle, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                writer(out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path, content_type: str, metadata: Mapping[str, str]) -> None:
        meta = {**{k: str(v) for k, v in metadata.items()}, "content-type": content_type}
        try:
            # Metadata first: an object file never exists without its provenance.
            self._atomic_write(self._meta_path(key), lambda out: out.write(json.dumps(meta).encode()))

            def copy(out):
                with open(path, "rb") as source:
                    shutil.copyfileobj(source, out, COPY_BUFFER)

            self._atomic_write(self._path(key), copy)
        except OSError as exc:
            raise ObjectStoreError(
                f"object store {self.describe()}: uploading {mask_key(key)!r} failed: {exc.strerror}"
            ) from None

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self._atomic_write(self._path(key), lambda out: out.write(data))
        except OSError as exc:
            raise ObjectStoreError(f"object store {self.describe()}: writing {key!r} failed: {exc.strerror}") from None

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise KeyError(key)
        return path.read_bytes()

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes start..end (inclusive) of the file, streamed in chunks."""
        path = self._path(key)
        if not path.is_file():
            raise KeyError(key)
        return self._stream(path, start, end)

    @staticmethod
    def _stream(path: Path, start: int, end: int) -> Iterator[bytes]:
        with open(path, "rb") as source:
            source.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = source.read(min(RANGE_CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk


def store_from_settings(knobs: Settings | None = None) -> MinioObjectStore | LocalDirObjectStore:
    """The store the settings name, for processes outside Dagster (the gallery, the CLI's messages):
    MinIO when MINIO_ENDPOINT is set, else the local directory. No connection is made here."""
    knobs = knobs or settings()
    if knobs.minio_endpoint:
        return MinioObjectStore(
            knobs.minio_endpoint,
            knobs.minio_access_key.get_secret_value() if knobs.minio_access_key else "",
            knobs.minio_secret_key.get_secret_value() if knobs.minio_secret_key else "",
            knobs.minio_bucket,
            secure=knobs.minio_secure,
        )
    return LocalDirObjectStore(knobs.local_store.expanduser().absolute())
