"""The run tags pv-media writes and reads (no imports: the command line reads them before Dagster loads)."""

STATION_TAG = "pv-media/station"  # every run of one station: the run limits allow one per station at a time
TRIGGER_TAG = "pv-media/trigger"  # what asked for the run: new-station, records-changed, daily, cli, manual...
# A run executed in a process of its own (the CLI, a batch): the next look at its station fails it if that
# process died on this host.
PID_TAG, HOST_TAG = "pv-media/pid", "pv-media/host"
BATCH_TAG = "pv-media/batch"  # on each station run of a batch: the batch run's id
BATCH_RUN_TAG = "pv-media/batch-run"  # on every batch run: the run limits cap batches with it


def station_tags(station_id: str, trigger: str) -> dict[str, str]:
    """The tags of every run of one station."""
    return {STATION_TAG: station_id, TRIGGER_TAG: trigger}
