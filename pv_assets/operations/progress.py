"""How a long collection reports progress: a callback handed to the collector through a resource.

The CLI hands in a callback that draws its bars; elsewhere nobody listens. (In-process runs
only: a callback cannot cross into a run worker's process.)
"""

from __future__ import annotations

from collections.abc import Callable

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from pv_assets.collection.collector import Progress


class ProgressResource(ConfigurableResource):
    # How often the run's log says how far the collection is (the callback hears of every item).
    log_every_s: float = 5.0

    _callback: Callable[[Progress], None] | None = PrivateAttr(default=None)

    @classmethod
    def to(cls, callback: Callable[[Progress], None]) -> ProgressResource:
        resource = cls()
        resource._callback = callback
        return resource

    def report(self, progress: Progress) -> None:
        if self._callback is not None:
            self._callback(progress)
