"""station_token: log in to the station; persist a session record, never the token."""

from dagster import AssetExecutionContext, Failure, MetadataValue, asset

from pv_assets.collection.asset_options import collection_asset
from pv_assets.operations.instance_pool import tune_instance_storage
from pv_model.registry import RegistryError
from resources.dagster_resources import StationApiResource
from resources.station_api import LoginFailed


@asset(
    **collection_asset(
        kinds={"python", "http"},
        description=(
            "A session with the station's cloud, logged in with the station's own account (credentials from the "
            "environment variables the registry names). A wrong password or locked account fails this station only, "
            "with the station's code and message. Stores a session record (station, when, expiry, a short "
            "token fingerprint) - never the token, which stays in the station resource's memory."
        ),
    )
)
def station_token(context: AssetExecutionContext, station_api: StationApiResource) -> dict:
    station_id = context.partition_key
    tune_instance_storage(context.instance)  # the run's first step: its ~90 events share connections
    try:
        client = station_api.client(station_id)
        session = client.login()
    except (LoginFailed, RegistryError) as exc:
        raise Failure(description=str(exc), metadata={"station": station_id}, allow_retries=False) from None
    context.log.info(f"station {station_id}: logged in, token {session.token_fingerprint}")
    context.add_output_metadata(
        {
            "station": station_id,
            "logged_in_at": session.logged_in_at,
            "expires_at": session.expires_at or "unknown",
            "token_fingerprint": session.token_fingerprint,
            "base_url": MetadataValue.url(client.endpoint.base_url),
        }
    )
    return session.as_dict()
