"""Compare-and-swap on the object store: read an object with its version, write it only if that version is
still the one stored. For read-modify-write objects (the gallery index) that two runs may update at once.

- S3 / MinIO: the object's ETag; the write is a PUT with `If-Match: <etag>`, or `If-None-Match: *` when the
  object did not exist. A store that has moved on answers `412 PreconditionFailed` (a racing write may
  answer `409 ConditionalRequestConflict`, an object deleted since `404 NoSuchKey`). minio's `put_object`
  would send these headers as user metadata, so the PUT goes through its PutObject call directly.
- The local directory: the file's validator (size, mtime, inode; every atomic write is a new inode),
  compared and replaced under an exclusive `flock` on a lock file beside the object's metadata.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import urllib3
from minio.error import MinioException, S3Error

from pv_model.keys import mask_key
from resources.object_store import LocalDirObjectStore, MinioObjectStore, ObjectStore, ObjectStoreError, local_etag

# 412: the version moved on; 409: a racing write; NoSuchKey: `If-Match` on an object deleted since it was read.
CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"})


class VersionConflict(Exception):
    """Someone else wrote the object since it was read: read it again, merge again, write again."""


def read_versioned(store: ObjectStore, key: str) -> tuple[bytes | None, str | None]:
    """The object's bytes and the version they are; (None, None) when there is no such object."""
    if isinstance(store, LocalDirObjectStore):
        try:
            with open(store.root / key, "rb") as source:
                # The validator of the very file read: a write since replaced the path, not this inode.
                return source.read(), local_etag(os.fstat(source.fileno()))
        except FileNotFoundError:
            return None, None
    if isinstance(store, MinioObjectStore):
        return _read_s3(store, key)
    raise TypeError(f"no conditional write for {type(store).__name__}")


def put_if_version(store: ObjectStore, key: str, data: bytes, content_type: str, version: str | None) -> None:
    """Write `data` at `key` only if the stored version is still `version` (None: only if there is none);
    raises VersionConflict otherwise."""
    if isinstance(store, LocalDirObjectStore):
        _put_local(store, key, data, content_type, version)
    elif isinstance(store, MinioObjectStore):
        _put_s3(store, key, data, content_type, version)
    else:
        raise TypeError(f"no conditional write for {type(store).__name__}")


def _conflict(key: str) -> VersionConflict:
    return VersionConflict(f"{mask_key(key)!r} was written by another run since it was read")


def _put_local(store: LocalDirObjectStore, key: str, data: bytes, content_type: str, version: str | None) -> None:
    lock_path = store.root / store.META_DIR / (key + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when the process dies
            current = _local_version(store.root / key)
            if current != version:
                raise _conflict(key)
            store.put_bytes(key, data, content_type)
    except OSError as exc:
        raise ObjectStoreError(f"object store {store.describe()}: writing {key!r} failed: {exc.strerror}") from None


def _local_version(path: Path) -> str | None:
    try:
        return local_etag(path.stat())
    except FileNotFoundError:
        return None


def _read_s3(store: MinioObjectStore, key: str) -> tuple[bytes | None, str | None]:
    store.ensure_ready()
    try:
        response = store._client.get_object(store.bucket, key)  # noqa: SLF001 - the ETag of the bytes read
        try:
            return response.read(), (response.headers.get("ETag") or "").strip('"')
        finally:
            response.close()
            response.release_conn()
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchObject"):
            return None, None
        raise store._error("reading", key, exc) from None  # noqa: SLF001
    except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise store._error("reading", key, exc) from None  # noqa: SLF001


def _put_s3(store: MinioObjectStore, key: str, data: bytes, content_type: str, version: str | None) -> None:
    store.ensure_ready()
    condition = {"If-Match": f'"{version}"'} if version is not None else {"If-None-Match": "*"}
    try:
        # minio's put_object turns unknown headers into user metadata; its PutObject call sends them as given.
        store._client._put_object(  # noqa: SLF001
            store.bucket, key, data, headers={"Content-Type": content_type, **condition}
        )
    except S3Error as exc:
        if exc.code in CONFLICT_CODES:
            raise _conflict(key) from None
        raise store._error("uploading", key, exc) from None  # noqa: SLF001
    except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        raise store._error("uploading", key, exc) from None  # noqa: SLF001
