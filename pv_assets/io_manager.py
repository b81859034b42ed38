"""The audit manifest's storage: DataFrames as Parquet (and the session record as JSON) in
the same object store as the media, so the audit trail sits beside the objects.

`{prefix}/{asset}/{partition}.parquet` is the latest; every run also leaves
`{prefix}/{asset}/{partition}/runs/{run_id}.parquet`, so history does not age out.
"""

from __future__ import annotations

import io
import json

import pandas as pd
from dagster import ConfigurableIOManager, InputContext, OutputContext

from resources.dagster_resources import ObjectStoreResource

AUDIT_PREFIX = "_pv-media/assets"


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def parquet_to_frame(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")


def audit_key(asset: str, partition: str | None, suffix: str) -> str:
    return f"{AUDIT_PREFIX}/{asset}/{partition or '__all__'}{suffix}"


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
        else:
            data = json.dumps(obj, ensure_ascii=False, sort_keys=True).encode("utf-8")
            suffix, content_type = ".json", "application/json"
        key = audit_key(asset, partition, suffix)
        store.put_bytes(key, data, content_type)
        if context.run_id:
            store.put_bytes(audit_key(asset, partition, f"/runs/{context.run_id}{suffix}"), data, content_type)
        context.add_output_metadata({"audit_key": key, "audit_store": store.describe()})

    def load_input(self, context: InputContext) -> object:
        store = self.object_store.open()
        asset, partition = self._names(context)
        if context.dagster_type.typing_type is dict:
            return json.loads(store.get_bytes(audit_key(asset, partition, ".json")).decode("utf-8"))
        return parquet_to_frame(store.get_bytes(audit_key(asset, partition, ".parquet")))
