"""Pooled connections to the Dagster instance's database, for the process of a run.

dagster-postgres opens a new connection for every statement outside the webserver (NullPool): a
station run writes ~90 events and opened ~350 connections, each a PostgreSQL backend forked and torn
down. A run worker lives for the whole run (a batch worker for many), so it keeps them open, as the
webserver does (`optimize_for_webserver`). No-op on the embedded SQLite instance.
"""

import threading
import weakref
from typing import Any

POOL_RECYCLE_S = 3600
POOL_MAX_OVERFLOW = 8  # the collector's threads log (and so write events) at the same time

_pooled: "weakref.WeakSet[Any]" = weakref.WeakSet()
_guard = threading.Lock()


def pool_storage_connections(instance: Any) -> None:
    """Keep the instance's database connections open between statements, once per instance."""
    with _guard:
        if instance in _pooled:
            return
        instance.optimize_for_webserver(
            statement_timeout=0, pool_recycle=POOL_RECYCLE_S, max_overflow=POOL_MAX_OVERFLOW
        )
        _pooled.add(instance)
