"""What every collection asset shares: the station partitions, the group, owners and code version."""

from typing import Any

from pv_assets.partitions import station_partitions

# Bump when an asset's logic changes what it produces, so Dagster shows the partitions as stale.
CODE_VERSION = "1"


def collection_asset(**kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for @asset: the shared ones, plus the asset's own."""
    return {
        "partitions_def": station_partitions,
        "group_name": "collection",
        "code_version": CODE_VERSION,
        "owners": ["team:pv-media"],
        **kwargs,
    }
