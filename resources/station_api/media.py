"""Media downloads (d1-d2 / S4-S5): every redirect hop checked by the SSRF policy, the token only
on the station's own origin, the body streamed to a staging file under a size cap, the type
decided from the first bytes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from resources.envelope import parse_retry_after
from resources.net_guard import ForbiddenTarget
from resources.sniff import SNIFF_BYTES, MediaType, NotMedia, sniff_media_type
from resources.station_api.errors import MediaFailure, TokenRejected, TokenRejectedAfterLogin, TransientMedia
from resources.station_api.session import StationSession
from resources.urls import InvalidMediaUrl, redirect_target


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size: int
    sha256: str
    media_type: MediaType
    final_url: str
    content_type_header: str | None


class MediaDownloader:
    """Downloads one station's media files through its session."""

    def __init__(self, session: StationSession):
        self.session = session

    def download(self, url: str, staging_dir: Path, max_bytes: int | None = None) -> Downloaded:
        """Stream one media file into a new file in staging_dir; the caller deletes it.

        Raises MediaFailure with a short reason; transient trouble is retried first.
        """
        limit = self.session.settings.max_media_bytes if max_bytes is None else max_bytes
        try:
            return self.session.retrying(TransientMedia)(lambda: self._download_once(url, staging_dir, limit))
        except TransientMedia as exc:
            raise MediaFailure(
                "transient",
                f"gave up after {self.session.settings.max_attempts} attempts: {exc.detail}",
                transient=True,
            ) from None
        except TokenRejectedAfterLogin:
            raise MediaFailure("unauthorized", "station refused the token right after a fresh login") from None

    def _download_once(self, url: str, staging_dir: Path, limit: int) -> Downloaded:
        current = url
        for _hop in range(self.session.settings.max_redirects + 1):
            try:
                self.session.policy.check(current)  # every hop: a redirect may point anywhere
            except ForbiddenTarget as exc:
                raise MediaFailure("forbidden_target", str(exc)) from None
            with self._media_response(current) as response:
                status = response.status_code
                if status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise MediaFailure("http_error", f"HTTP {status} redirect without Location")
                    try:
                        current = redirect_target(current, location)
                    except InvalidMediaUrl as exc:
                        raise MediaFailure("forbidden_target", f"redirect to an invalid URL: {exc}") from None
                    continue
                _raise_for_media_status(status, response.headers)
                return self._stream_to_staging(response, current, staging_dir, limit)
        raise MediaFailure("too_many_redirects", f"more than {self.session.settings.max_redirects} redirects")

    def _get_media(self, url: str, token: str | None) -> requests.Response:
        try:
            request = self.session.authorised_request("GET", url, token)  # an API key may go in the query
            return self.session.http.get(
                url,
                params=request.params or None,
                headers=request.headers,
                stream=True,
                timeout=self.session.timeout(),
                allow_redirects=False,
            )
        except ForbiddenTarget as exc:  # the connect-time check of the address reached (DNS rebinding)
            raise MediaFailure("forbidden_target", str(exc)) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientMedia(f"network error ({exc.__class__.__name__})") from None
        except requests.RequestException as exc:
            raise MediaFailure("http_error", f"request failed ({exc.__class__.__name__})") from None

    @contextlib.contextmanager
    def _media_response(self, url: str) -> Iterator[requests.Response]:
        """The response for one hop, holding a station connection slot while it is open.

        Only the station's own host gets the token; a 401 there logs in again (per hop, since a
        redirect chain on the station host spends the token once per hop).
        """
        if not self.session.policy.is_station_host(url):
            with self._get_media(url, None) as response:
                yield response
            return

        def open_with(token: str) -> requests.Response:
            self.session.station_slots.acquire()  # after the token: a login inside a held slot could deadlock
            try:
                response = self._get_media(url, token)
            except BaseException:
                self.session.station_slots.release()
                raise
            if response.status_code == 401:
                response.close()
                self.session.station_slots.release()
                raise TokenRejected(token)
            return response

        response = self.session.with_token(open_with)
        try:
            with response:
                yield response
        finally:
            self.session.station_slots.release()

    def _stream_to_staging(
        self, response: requests.Response, final_url: str, staging_dir: Path, limit: int
    ) -> Downloaded:
        declared = _declared_length(response.headers)
        if declared is not None and declared > limit:
            raise MediaFailure("too_large", f"Content-Length {declared} bytes is over the {limit}-byte cap")
        staging_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="dl-", suffix=".part", dir=staging_dir)
        path = Path(name)
        digest = hashlib.sha256()
        size = 0
        head = b""
        media_type: MediaType | None = None
        started = time.monotonic()
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in response.iter_content(self.session.settings.chunk_bytes):
                    elapsed = time.monotonic() - started
                    if (
                        elapsed > self.session.settings.slow_grace_s
                        and size < self.session.settings.min_bytes_per_s * elapsed
                    ):
                        raise TransientMedia(f"too slow: {size} bytes in {elapsed:.0f} s")
                    if not chunk:
                        continue
                    size += len(chunk)
                    if size > limit:
                        raise MediaFailure("too_large", f"body exceeds the {limit}-byte cap")
                    if media_type is None:
                        head += chunk[: SNIFF_BYTES - len(head)]
                        if len(head) >= SNIFF_BYTES:
                            media_type = _sniff(head)
                    digest.update(chunk)
                    out.write(chunk)
            if media_type is None:
                media_type = _sniff(head)
            if declared is not None and size != declared and not response.headers.get("Content-Encoding"):
                raise TransientMedia(f"body ended after {size} of {declared} bytes")
        except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError, requests.Timeout) as exc:
            path.unlink(missing_ok=True)
            raise TransientMedia(f"download cut off after {size} bytes ({exc.__class__.__name__})") from None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Downloaded(path, size, digest.hexdigest(), media_type, final_url, response.headers.get("Content-Type"))


def _sniff(head: bytes) -> MediaType:
    try:
        return sniff_media_type(head)
    except NotMedia as exc:
        raise MediaFailure("not_media", str(exc)) from None


def _declared_length(headers: Any) -> int | None:
    value = headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _raise_for_media_status(status: int, headers: Any) -> None:
    if status == 200:
        return
    if status == 404:
        raise MediaFailure("not_found", "HTTP 404")
    if status == 410:
        raise MediaFailure("gone", "HTTP 410")
    if status == 429 or status in (500, 502, 503, 504):
        raise TransientMedia(f"HTTP {status}", parse_retry_after(headers.get("Retry-After")))
    raise MediaFailure("http_error", f"HTTP {status}")
