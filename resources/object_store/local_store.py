"""The embedded store for laptops and the demo: objects as files, metadata as JSON beside them (.pv-meta/)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from pv_model.keys import mask_key
from resources.object_store.base import COPY_BUFFER, RANGE_CHUNK, ObjectStoreError, RangeReads, StoredObject, check_key

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


def local_etag(info: os.stat_result) -> str:
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
                    yield StoredObject(key, info.st_size, etag=local_etag(info))

    def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        if not path.is_file():
            return None
        meta_path = self._meta_path(key)
        meta = json.loads(meta_path.read_text("utf-8")) if meta_path.is_file() else {}
        info = path.stat()
        return StoredObject(key, info.st_size, meta, etag=local_etag(info), content_type=meta.get("content-type", ""))

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
