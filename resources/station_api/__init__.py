"""The station cloud client, by role: `session` (login, token, authorised calls and retries),
`records` (station info, paging), `media` (downloads with the SSRF guard and staging),
`client` (the StationClient callers use), `errors` and `config`.

Handles everything station-api.md lists: envelope codes, 401 -> one re-login then replay,
429 with Retry-After, bounded exponential backoff for transient trouble, paging until an
empty page with de-duplication, redirects re-checked by the SSRF policy, the token sent to
the station's own origin only, and media streamed to a staging file under a size cap with
the type decided from the first bytes.
"""

from resources.station_api.client import StationClient
from resources.station_api.config import ClientSettings, StationEndpoint, station_endpoint
from resources.station_api.errors import LoginFailed, MediaFailure, StationApiError, TransientStationError
from resources.station_api.media import Downloaded
from resources.station_api.session import SessionRecord, token_fingerprint

__all__ = [
    "ClientSettings",
    "Downloaded",
    "LoginFailed",
    "MediaFailure",
    "SessionRecord",
    "StationApiError",
    "StationClient",
    "StationEndpoint",
    "station_endpoint",
    "TransientStationError",
    "token_fingerprint",
]
