"""`pv-media collect`'s look before a run: the daily pass's (pv_assets/collection/unchanged.py), for a person
at a terminal.

A station whose run could change nothing - same records, registry entry, dialect, settings and code as its
last successful run, every object of that run still in the store - gets no run: an observation of
infrastructure_records says it was looked at (as the daily pass records it), and its summary says which
run stands. Everything else, and any error while looking, runs as always; `--force` runs every station.

Why it matters: a run is ~90 Dagster events and the whole asset graph loaded; this look imports neither
the assets nor the decoders, so a station with nothing new answers in about a second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pv_assets.collection.fingerprint import REFRESH_FINGERPRINT
from pv_assets.collection.unchanged import Unchanged, look_before_run

OBSERVED_BY = "pv-media collect"


def unchanged_observation(station_id: str, unchanged: Unchanged, looked_by: str = OBSERVED_BY) -> Any:
    """The record that a look found nothing the station's run could change."""
    from dagster import AssetObservation

    return AssetObservation(
        asset_key="infrastructure_records",
        partition=station_id,
        description=f"Looked at by {looked_by}: the records, registry entry, dialect, settings and code are as "
        "its last run saw them and every object it stored is in place, so no run.",
        metadata={
            "unchanged_since_run": unchanged.run_id,
            "records": unchanged.records,
            REFRESH_FINGERPRINT: unchanged.fingerprint,
        },
    )


class StationLook:
    """Looks at one station at a time: Unchanged (recorded as an observation) when its run could change nothing,
    else None (and `say` tells why it runs)."""

    def __init__(self, instance: Any, stations_file: str, say: Callable[[str], None]):
        from resources.dagster_resources import StationApiResource, object_store_from_env
        from resources.settings import settings

        self.instance, self.say = instance, say
        self.station_api = StationApiResource(stations_file=stations_file)
        self.store = object_store_from_env(settings()).open()

    def __call__(self, station_id: str) -> Unchanged | None:
        look = look_before_run(self.instance, self.station_api, self.store, station_id)
        if isinstance(look, Unchanged):
            self.instance.report_runless_asset_event(unchanged_observation(station_id, look))
            return look
        self.say(f"station {station_id} runs: {look}")
        return None
