"""The audit manifest's storage: DataFrames as Parquet (and the session record as JSON) in
the same object store as the media, so the audit trail sits beside the objects. What is stored keeps
no credential of a media link (`?token=...` becomes a keyed tag, pv_model.scrub.redact_link_secrets).

`{prefix}/{asset}/{partition}.parquet` is the latest; every run also leaves
`{prefix}/{asset}/{partition}/runs/{run_id}.parquet`, so history does not age out.

The steps of a run execute in one process (the in-process executor): the table a step wrote, a
later step of the same run decodes from memory instead of reading it back from the store (a
station run loads seven inputs) - the same table, its links whole. Only the current run's outputs
are kept; a run whose steps ran in other processes, or an input from an earlier run, is read from
the store, credentials redacted (uploaded_media then reads the links again from the station:
pv_assets/collection/secret_links.py).
"""

from __future__ import annotations

import io
import json
import threading

import pandas as pd
from dagster import ConfigurableIOManager, InputContext, OutputContext

from pv_model.scrub import redact_link_secrets
from resources.dagster_resources import ObjectStoreResource

AUDIT_PREFIX = "_pv-media/assets"


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def parquet_to_frame(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")


def without_link_secrets(frame: pd.DataFrame) -> pd.DataFrame | None:
    """The table with the credentials in its media links (`?token=...`) replaced by a keyed tag, for what is
    stored; None when it has none. The links keep their other parameters, and two links stay two."""
    changed = {}
    for column in frame.columns:
        values = frame[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            continue
        cells = values.tolist()
        redacted = [redact_link_secrets(v) if isinstance(v, str) else v for v in cells]
        if redacted != cells:  # list equality: a missing value is the same object on both sides
            changed[column] = pd.Series(redacted, index=frame.index, dtype=values.dtype)
    if not changed:
        return None
    out = frame.copy(deep=False)
    for column, values in changed.items():
        out[column] = values
    return out


def audit_key(asset: str, partition: str | None, suffix: str) -> str:
    return f"{AUDIT_PREFIX}/{asset}/{partition or '__all__'}{suffix}"


class _CurrentRunOutputs:
    """The bytes this process stored for the run it executes now: {(asset, partition): bytes}."""

    def __init__(self) -> None:
        self._run_id: str | None = None
        self._stored: dict[tuple[str, str | None], bytes] = {}
        self._lock = threading.Lock()

    def keep(self, run_id: str, name: tuple[str, str | None], data: bytes) -> None:
        with self._lock:
            if run_id != self._run_id:  # a new run: the last run's outputs are not needed any more
                self._run_id, self._stored = run_id, {}
            self._stored[name] = data

    def get(self, run_id: str | None, name: tuple[str, str | None]) -> bytes | None:
        with self._lock:
            return self._stored.get(name) if run_id is not None and run_id == self._run_id else None


_current_run = _CurrentRunOutputs()


class ObjectStoreIOManager(ConfigurableIOManager):
    object_store: ObjectStoreResource

    def _names(self, context: OutputContext | InputContext) -> tuple[str, str | None]:
        asset = context.asset_key.to_user_string()
        partition = context.asset_partition_key if context.has_asset_partitions else None
        return asset, partition

    def handle_output(self, context: OutputContext, obj: object) -> None:
        store = self.object_store.open()
        asset, partition = self._names(context)
        if isinstance(obj, pd.DataFrame):
            data, suffix, content_type = frame_to_parquet(obj), ".parquet", "application/vnd.apache.parquet"
            # The store keeps no link's credential; the run's later steps (the downloads) get the whole links.
            redacted = without_link_secrets(obj)
            stored = data if redacted is None else frame_to_parquet(redacted)
        else:
            data = json.dumps(obj, ensure_ascii=False, sort_keys=True).encode("utf-8")
            suffix, content_type = ".json", "application/json"
            stored = data
        key = audit_key(asset, partition, suffix)
        store.put_bytes(key, stored, content_type)
        if context.run_id:
            store.put_bytes(audit_key(asset, partition, f"/runs/{context.run_id}{suffix}"), stored, content_type)
            _current_run.keep(context.run_id, (asset, partition), data)
        context.add_output_metadata({"audit_key": key, "audit_store": store.describe()})

    def load_input(self, context: InputContext) -> object:
        asset, partition = self._names(context)
        upstream = context.upstream_output
        as_json = context.dagster_type.typing_type is dict
        data = _current_run.get(upstream.run_id if upstream is not None else None, (asset, partition))
        if data is None:
            data = self.object_store.open().get_bytes(audit_key(asset, partition, ".json" if as_json else ".parquet"))
        return json.loads(data.decode("utf-8")) if as_json else parquet_to_frame(data)
