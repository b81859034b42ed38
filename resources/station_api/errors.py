"""What a station call can fail with. Messages name the station, the call, and the station's
code and message; they never contain the password or the token."""

from __future__ import annotations


class StationApiError(Exception):
    """A station call that failed; says which station, which call, and the station's code and message."""

    def __init__(self, station_id: str, call: str, detail: str, code: str | None = None):
        self.station_id, self.call, self.code, self.detail = station_id, call, code, detail
        code_text = f"code {code}: " if code is not None else ""
        super().__init__(f"station {station_id}: {call} failed: {code_text}{detail}")


class LoginFailed(StationApiError):
    """Wrong account or password, a locked account, or no token: fails this station only.

    `refused` says the station refused the credentials themselves (in whatever style its answers
    come): trying them again only brings the account closer to being locked."""

    def __init__(self, station_id: str, call: str, detail: str, code: str | None = None, *, refused: bool = False):
        super().__init__(station_id, call, detail, code)
        self.refused = refused


class TransientStationError(StationApiError):
    def __init__(
        self, station_id: str, call: str, detail: str, code: str | None = None, retry_after: float | None = None
    ):
        super().__init__(station_id, call, detail, code)
        self.retry_after = retry_after


class MediaFailure(Exception):
    """One media item that could not be collected. `reason` is a short category for the manifest."""

    def __init__(self, reason: str, detail: str, *, transient: bool = False, retry_after: float | None = None):
        self.reason, self.detail, self.transient, self.retry_after = reason, detail, transient, retry_after
        super().__init__(f"{reason}: {detail}")


class TransientMedia(Exception):
    """A media download worth retrying (network trouble, 429, 5xx, a body cut off)."""

    def __init__(self, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.detail, self.retry_after = detail, retry_after


class TokenRejected(Exception):
    """The station refused a token. The token is kept as an attribute, never in the message; the station's
    own code and words are kept for the error a person reads."""

    def __init__(self, token: str | None, code: str | None = None, message: str | None = None):
        super().__init__("token rejected")
        self.token, self.code, self.message = token, code, message


class TokenRejectedAfterLogin(Exception):
    """A token obtained by this very call was rejected at once: logging in again would loop."""

    def __init__(self, code: str | None = None, message: str | None = None):
        super().__init__(message or "token rejected")
        self.code, self.message = code, message
