"""The Dagster instance's database as a run's process uses it: pooled connections, schema looked up once.

dagster-postgres, outside the webserver, opens a new connection for every statement (NullPool) and
asks PostgreSQL's catalogue whether a table (or a column) exists before most event writes. A station run made
~450 statements - ~90 event inserts, ~80 catalogue lookups, ~56 "is this a partition" queries - on
~350 fresh connections, each a PostgreSQL backend forked and torn down. A run's process lives for the
whole run (a batch worker for many), so it keeps its connections open, as the webserver does
(`optimize_for_webserver`), and remembers what cannot change under it: which tables and columns
exist, and that a partition exists. Measured on 20 no-op stations: ~292 statements a station, PostgreSQL's CPU halved.

It also writes each event without the `NOTIFY run_events` that dagster-postgres still sends after every
insert: nothing in Dagster LISTENs any more (its own comment: "preserved here to support version skew",
i.e. a webserver older than the run workers, which one deployment of one version does not have). That is
89 of a station run's ~292 statements; on 20 no-op stations, A/B in one process over 6 rounds, the median
cost of a station (run worker and PostgreSQL) fell by 0.037 CPU-s (7 %).

No-op on the embedded SQLite instance.
"""

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any

from resources.dagster_private import replace_asset_key_column_lookup, store_event_without_notify

POOL_RECYCLE_S = 3600
POOL_MAX_OVERFLOW = 8  # the collector's threads log (and so write events) at the same time

_tuned: "weakref.WeakSet[Any]" = weakref.WeakSet()
_guard = threading.Lock()


def tune_instance_storage(instance: Any) -> None:
    """Pool the instance's connections and cache its schema and partition lookups, once per instance."""
    with _guard:
        if instance in _tuned:
            return
        instance.optimize_for_webserver(
            statement_timeout=0, pool_recycle=POOL_RECYCLE_S, max_overflow=POOL_MAX_OVERFLOW
        )
        storage = instance.event_log_storage
        if hasattr(storage, "postgres_url"):  # SQLite shards its event log by run: nothing to cache there
            storage.has_table = functools.cache(storage.has_table)  # tables are not dropped under a run
            # Asked (by reflecting the table's columns) at every materialization's index update.
            replace_asset_key_column_lookup(storage, remember_column)
            storage.has_dynamic_partition = remember_found(storage.has_dynamic_partition)
            storage.store_event = functools.partial(store_event_without_notify, storage)
        runs = instance.run_storage
        if hasattr(runs, "postgres_url"):  # asked at each run record read and run event
            runs.has_run_stats_index_cols = functools.cache(runs.has_run_stats_index_cols)
            runs.has_backfill_id_column = functools.cache(runs.has_backfill_id_column)
        _tuned.add(instance)


def remember_column(lookup: Callable[[Any, str], bool]) -> Callable[[Any, str], bool]:
    """`lookup(connection, column)` answered once per column: columns are not dropped under a run."""
    answers: dict[str, bool] = {}

    @functools.wraps(lookup)
    def cached(connection: Any, column_name: str) -> bool:
        if column_name not in answers:
            answers[column_name] = lookup(connection, column_name)
        return answers[column_name]

    return cached


def remember_found(lookup: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
    """`lookup` that asks again only until the answer is yes (a station removed mid-run is still
    collected by the run that already started it; a station added mid-run is seen)."""
    found: set[tuple[str, str]] = set()

    @functools.wraps(lookup)
    def cached(partitions_def_name: str, partition_key: str) -> bool:
        key = (partitions_def_name, partition_key)
        if key in found:
            return True
        exists = lookup(partitions_def_name, partition_key)
        if exists:
            found.add(key)
        return exists

    return cached
