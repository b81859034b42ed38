"""Where media and audit manifests are stored: MinIO (any S3 endpoint) or a local directory.

Both implement the same small interface; the pipeline never knows which one it has.
Errors name the store and the (masked) key, never the access or secret key.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import quote, unquote

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from pv_assets.media.keys import mask_key

# Uploads from the staging file: minio reads a file up to one part into memory and sends bigger ones
# as multipart, a part at a time; 5 MiB (S3's smallest part) keeps each worker's memory small.
PART_SIZE = 5 * 1024 * 1024
COPY_BUFFER = 1024 * 1024


class ObjectStoreError(Exception):
    """The object store failed; the message names the store and the key, with no credentials."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    metadata: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None  # changes when the object is rewritten (from the listing: no request per object)


class ObjectStore(Protocol):
    def describe(self) -> str: ...
    def ensure_ready(self) -> None: ...
    def list_prefix(self, prefix: str) -> Iterator[StoredObject]: ...
    def stat(self, key: str) -> StoredObject | None: ...
    def put_file(self, key: str, path: Path, content_type: str, metadata: Mapping[str, str]) -> None: ...
    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def get_range(self, key: str, offset: int, length: int) -> bytes: ...


def encode_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """S3 user metadata travels in HTTP headers: ASCII only, so non-ASCII values are percent-encoded."""
    return {key: quote(str(value), safe=" -_.:/+=@") for key, value in metadata.items()}


def decode_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    return {key: unquote(value) for key, value in metadata.items()}


def check_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or any(part in ("..", ".") for part in parts) or "\\" in key:
        raise ObjectStoreError(f"refusing unsafe object key {mask_key(key)!r}")
    return key


class MinioObjectStore:
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
        self.endpoint, self.bucket, self.secure = endpoint, bucket, secure
        http = urllib3.PoolManager(
            maxsize=max_pool,
            timeout=urllib3.Timeout(connect=5.0, read=timeout_s),
            # A few quick retries for a blip; an unreachable store fails the run in seconds, not minutes.
            retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
        )
        self._client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region, http_client=http
        )
        self._ready = False

    def describe(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}/{self.bucket}"

    def _error(self, action: str, key: str | None, exc: BaseException) -> ObjectStoreError:
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
                yield StoredObject(obj.object_name, obj.size or 0, etag=(obj.etag or "").strip('"') or None)
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
        return StoredObject(key, info.size or 0, decode_metadata(meta))

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
        except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
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

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """`length` bytes from `offset` (fewer at the end): a poster frame seeks, it does not download."""
        self.ensure_ready()
        try:
            response = self._client.get_object(self.bucket, key, offset=offset, length=length)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise KeyError(key) from None
            if exc.code == "InvalidRange":
                return b""
            raise self._error("reading", key, exc) from None
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error("reading", key, exc) from None


class LocalDirObjectStore:
    """The embedded store for laptops and the demo: objects as files, metadata as JSON beside them."""

    META_DIR = ".pv-meta"

    def __init__(self, root: Path):
        self.root = Path(root)

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
        for dirpath, dirnames, filenames in os.walk(scan):
            dirnames[:] = sorted(d for d in dirnames if d != self.META_DIR)
            for name in sorted(filenames):
                if name.startswith(".tmp-"):
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    stat = full.stat()
                    yield StoredObject(key, stat.st_size, etag=f"{stat.st_mtime_ns:x}-{stat.st_size:x}")

    def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        if not path.is_file():
            return None
        meta_path = self._meta_path(key)
        meta = json.loads(meta_path.read_text("utf-8")) if meta_path.is_file() else {}
        return StoredObject(key, path.stat().st_size, meta)

    def _atomic_write(self, target: Path, writer) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
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

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise KeyError(key)
        with open(path, "rb") as source:
            source.seek(offset)
            return source.read(length)
