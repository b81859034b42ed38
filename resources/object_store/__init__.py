"""Where media and audit manifests are stored: MinIO (any S3 endpoint) or a local directory.

Both implement the same small interface; the pipeline never knows which one it has.
Errors name the store and the (masked) key, never the access or secret key.
"""

from __future__ import annotations

from resources.object_store.base import (
    MAX_METADATA_VALUE_CHARS,
    PART_SIZE,
    ObjectRejected,
    ObjectStore,
    ObjectStoreError,
    StoredObject,
    check_key,
    decode_metadata,
    encode_metadata,
    rejects_only_this_object,
)
from resources.object_store.local_store import LocalDirObjectStore, local_etag
from resources.object_store.minio_store import MinioObjectStore
from resources.settings import Settings, settings

# Errors name their public module in messages and tracebacks (`resources.object_store.ObjectStoreError`).
ObjectStoreError.__module__ = ObjectRejected.__module__ = __name__

__all__ = [
    "MAX_METADATA_VALUE_CHARS",
    "PART_SIZE",
    "LocalDirObjectStore",
    "MinioObjectStore",
    "ObjectRejected",
    "ObjectStore",
    "ObjectStoreError",
    "StoredObject",
    "check_key",
    "decode_metadata",
    "encode_metadata",
    "local_etag",
    "rejects_only_this_object",
    "store_from_settings",
]


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
