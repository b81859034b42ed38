"""The station registry (conf/stations.yaml) as models: `defaults:` and every station validated alike,
unknown keys refused with a "did you mean", and every error naming the file, the line, the station and the
field, with the reason - never the value, which may be a secret written in the wrong place. Secrets are never
kept here: the registry names the environment variables that hold them.

Reading the file (and its parse cache) is the edge's: resources.registry.load_registry.
"""

from pv_model.registry.lines import EntryLines
from pv_model.registry.models import (
    DEFAULT_ACCEPTED_PICKUP,
    Registry,
    RegistryError,
    Station,
    StationEntry,
    StationSettings,
)
from pv_model.registry.validation import build_registry

__all__ = [
    "DEFAULT_ACCEPTED_PICKUP",
    "EntryLines",
    "Registry",
    "RegistryError",
    "Station",
    "StationEntry",
    "StationSettings",
    "build_registry",
]
