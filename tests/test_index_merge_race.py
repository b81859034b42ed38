"""Two gallery-index merges at once (issue 22, item 14): the slower one must not write older rows back.

The race is made exact, not hoped for: merge A reads the index and the pieces, then - just before A writes -
merge B runs whole for stations that just got new pieces. On the local store and on moto's S3 server
(conditional PUT)."""

from __future__ import annotations

import pytest

from pv_assets.gallery.previews import gallery_store
from pv_assets.gallery.previews.gallery_store import update_index, write_piece
from resources.conditional_write import VersionConflict, put_if_version, read_versioned
from resources.object_store import LocalDirObjectStore
from tests.test_previews_parts import piece_rows


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def any_store(request, tmp_path):
    if request.param == "local":
        return LocalDirObjectStore(tmp_path / "store")
    return request.getfixturevalue("s3_store")


def test_a_merge_that_meets_another_merge_retries_and_loses_no_station(any_store, monkeypatch):
    store = any_store
    for station, count in (("ST-1", 3), ("ST-2", 4)):
        write_piece(store, station, piece_rows(station, count))
    update_index(store)

    def merge_b():  # a station run finishes and merges while A is mid-way
        write_piece(store, "ST-3", piece_rows("ST-3", 5))
        write_piece(store, "ST-1", piece_rows("ST-1", 2, tag="new"))
        update_index(store)

    writes = []

    def write_after_b(*args):
        writes.append(args[1])
        if len(writes) == 1:
            merge_b()
        return put_if_version(*args)

    monkeypatch.setattr(gallery_store, "put_if_version", write_after_b)
    update_index(store)
    assert len(writes) == 3  # A's write, B's, then A's again: A's first was refused and A merged from B's index
    monkeypatch.undo()
    final = update_index(store)
    assert final.pieces_read == 0  # the index already holds every piece: nothing left for a later merge
    assert final.index_rows == {"ST-1": 2, "ST-2": 4, "ST-3": 5}


def test_a_conditional_write_refuses_a_stale_version_and_a_create_over_an_existing_object(any_store):
    store = any_store
    store.ensure_ready()
    assert read_versioned(store, "_pv-media/x.bin") == (None, None)
    put_if_version(store, "_pv-media/x.bin", b"one", "application/octet-stream", None)
    with pytest.raises(VersionConflict, match="_pv-media/x.bin"):
        put_if_version(store, "_pv-media/x.bin", b"two", "application/octet-stream", None)
    data, version = read_versioned(store, "_pv-media/x.bin")
    assert data == b"one" and version
    put_if_version(store, "_pv-media/x.bin", b"three", "application/octet-stream", version)
    with pytest.raises(VersionConflict):
        put_if_version(store, "_pv-media/x.bin", b"four", "application/octet-stream", version)
    assert store.get_bytes("_pv-media/x.bin") == b"three"
    _data, version = read_versioned(store, "_pv-media/x.bin")
    if hasattr(store, "root"):
        (store.root / "_pv-media/x.bin").unlink()
    else:
        store._client.remove_object(store.bucket, "_pv-media/x.bin")  # noqa: SLF001
    with pytest.raises(VersionConflict):  # deleted since it was read: S3 answers 404 NoSuchKey to If-Match
        put_if_version(store, "_pv-media/x.bin", b"five", "application/octet-stream", version)
