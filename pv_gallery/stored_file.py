"""A file of the object store as the gallery last read it: one stat per request, read again only when it changes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from resources.object_store import ObjectStore

T = TypeVar("T")


class StoredFile(Generic[T]):
    """`load(bytes)` of the file at `key`, kept until its etag (or size) moves; None while the file does not exist."""

    def __init__(self, store: ObjectStore, key: str, load: Callable[[bytes], T]):
        self.store, self.key, self.load = store, key, load
        self._version: str | None = None
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T | None:
        info = self.store.stat(self.key)
        if info is None:
            return None
        version = info.etag or str(info.size)
        with self._lock:
            if version != self._version:
                self._value = self.load(self.store.get_bytes(self.key))
                self._version = version
            return self._value
