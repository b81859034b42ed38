"""Where pv-media keeps things on disk, from the environment with project-local defaults.

Paths are relative to the working directory: run pv-media and `dagster dev` from the
project folder, or set the variables.
"""

from __future__ import annotations

import os
from pathlib import Path


def _path(env_name: str, default: str) -> Path:
    return Path(os.environ.get(env_name) or default).expanduser().absolute()


def stations_file() -> Path:
    return _path("PV_STATIONS_FILE", "conf/stations.yaml")


def staging_root() -> Path:
    return _path("PV_STAGING_DIR", "conf/staging")


def local_store_root() -> Path:
    """The embedded object store used when MINIO_ENDPOINT is unset."""
    return _path("PV_LOCAL_STORE", "var/object-store")


def dagster_home() -> Path:
    return _path("DAGSTER_HOME", ".dagster_home")


def instance_config_file() -> Path:
    return _path("PV_DAGSTER_YAML", "conf/dagster.yaml")
