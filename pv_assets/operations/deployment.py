"""Embedded or production: which Dagster instance pv-media runs on, and what production refuses.

Embedded (the default): SQLite under DAGSTER_HOME, `pv-media collect` runs stations in its own
process, the local-directory store is fine. Production: a shared instance (PostgreSQL,
conf/dagster-postgres.yaml) whose runs the daemon launches, possibly on other hosts - so every
run worker must see the same object store, and nothing may be kept on a local disk between steps.

Every setting is read from the environment when asked, never at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from resources.dagster_resources import instance_is_shared, local_store_refusal
from resources.settings import settings

__all__ = ["DeploymentError", "deployment_mode", "instance_is_shared", "is_production", "local_store_refusal"]

DEPLOYMENT_MODES = ("embedded", "production")


class DeploymentError(ValueError):
    """A deployment setting that cannot work; the message says which and what to do."""


def deployment_mode() -> str:
    """PV_DEPLOYMENT: `embedded` (default) or `production`."""
    mode = settings().deployment.strip().lower()
    if mode not in DEPLOYMENT_MODES:
        raise DeploymentError(f"PV_DEPLOYMENT={mode!r}: expected one of {', '.join(DEPLOYMENT_MODES)}")
    return mode


def is_production(instance: Any | None = None) -> bool:
    return deployment_mode() == "production" or (instance is not None and instance_is_shared(instance))


def workspace_file() -> Path:
    """PV_WORKSPACE: the workspace `pv-media collect` submits runs through (default workspace.yaml;
    in production one that points at the code server, e.g. deploy/workspace-grpc.yaml)."""
    return settings().workspace.expanduser().absolute()
