"""The MinIO / S3 store: uploads from staging in parts, errors that say whether the store or one object failed."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from pv_model.keys import mask_key
from resources.object_store.base import (
    PART_SIZE,
    RANGE_CHUNK,
    ObjectRejected,
    ObjectStoreError,
    RangeReads,
    StoredObject,
    check_key,
    decode_metadata,
    encode_metadata,
    rejects_only_this_object,
)
from resources.store_retry import store_retry


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
