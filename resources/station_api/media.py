"""Media downloads (d1-d2 / S4-S5): every redirect hop checked by the SSRF policy, the token only
on the station's own origin, the body streamed to a staging file under a size cap, the type
decided from the first bytes."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import requests
import urllib3

from pv_model.urls import InvalidMediaUrl, redirect_target
from resources.deadline import total_deadline
from resources.envelope import TRANSIENT_HTTP, Reply, classify_reply, parse_retry_after
from resources.net_guard import ForbiddenTarget
from resources.sniff import SNIFF_BYTES, MediaType, NotMedia, check_media_header, sniff_media_type
from resources.station_api.body import BodyCutOff, BodyTooLarge, UnsupportedEncoding, declared_length, iter_body
from resources.station_api.errors import (
    MediaFailure,
    StationApiError,
    TokenRejected,
    TokenRejectedAfterLogin,
    TransientMedia,
)
from resources.station_api.session import StationSession


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
        # One attempt, redirects and a re-login included, within a total deadline: a body that
        # trickles in is cut even when every single read is quick enough.
        with total_deadline(self.session.settings.media_deadline_s) as deadline:
            try:
                return self._follow(url, staging_dir, limit)
            except (TransientMedia, MediaFailure, StationApiError):  # a re-login cut by the deadline too
                if deadline is not None and deadline.expired:
                    raise TransientMedia(f"not complete within {deadline.seconds:g} s") from None
                raise

    def _follow(self, url: str, staging_dir: Path, limit: int) -> Downloaded:
        current = url
        for _hop in range(self.session.settings.max_redirects + 1):
            try:
                self.session.policy.check(current)  # every hop: a redirect may point anywhere
            except ForbiddenTarget as exc:
                raise MediaFailure("forbidden_target", str(exc)) from None
            with self._media_response(current, limit) as answer:
                response = answer.response
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
                if answer.reply is not None:
                    _raise_for_envelope(answer.reply)
                return self._stream_to_staging(answer, current, staging_dir, limit)
        raise MediaFailure("too_many_redirects", f"more than {self.session.settings.max_redirects} redirects")

    def _get_media(self, url: str, token: str | None) -> requests.Response:
        try:
            request = self.session.authorised_request("GET", url, token)  # an API key may go in the query
            return self.session.http.get(
                request.url,  # as a hook may have rewritten it (same origin only)
                params=request.params or None,
                headers=request.headers,
                stream=True,
                timeout=self.session.timeout(),
                allow_redirects=False,
            )
        except ForbiddenTarget as exc:  # the connect-time check of the address reached (DNS rebinding)
            raise MediaFailure("forbidden_target", str(exc)) from None
        except (requests.ConnectionError, requests.Timeout, OSError) as exc:
            raise TransientMedia(f"network error ({exc.__class__.__name__})") from None
        except requests.RequestException as exc:
            raise MediaFailure("http_error", f"request failed ({exc.__class__.__name__})") from None

    @contextlib.contextmanager
    def _media_response(self, url: str, limit: int) -> Iterator[_Answer]:
        """The answer for one hop, holding a station connection slot while it is open.

        Only the station's own host gets the token. There, a 401 - as HTTP status or as the
        station's JSON envelope on a 200 - logs in again (per hop, since a redirect chain on the
        station host spends the token once per hop); other envelope codes come back in `reply`.
        """
        if not self.session.policy.is_station_host(url):
            with self._get_media(url, None) as response:
                yield self._answer(response, limit, envelope=False)
            return

        def open_with(token: str) -> _Answer:
            self.session.station_slots.acquire()  # after the token: a login inside a held slot could deadlock
            response = None
            try:
                response = self._get_media(url, token)
                answer = self._answer(response, limit, envelope=True)
                if response.status_code == 401 or (answer.reply is not None and answer.reply.kind == "token_expired"):
                    raise TokenRejected(token, answer.reply.code if answer.reply else None)
                return answer
            except BaseException:
                if response is not None:
                    response.close()
                self.session.station_slots.release()
                raise

        answer = self.session.with_token(open_with)
        try:
            with answer.response:
                yield answer
        finally:
            self.session.station_slots.release()

    def _answer(self, response: requests.Response, limit: int, *, envelope: bool) -> _Answer:
        """Start reading a 200 body: its first bytes, and on the station host its envelope if it is one."""
        if response.status_code != 200:
            return _Answer(response, iter(()), b"", None)
        declared = declared_length(response.headers)
        if declared is not None and declared > limit:
            raise MediaFailure("too_large", f"Content-Length {declared} bytes is over the {limit}-byte cap")
        settings = self.session.settings
        chunks = _paced(
            iter_body(response, chunk_bytes=settings.chunk_bytes, max_decoded=limit),
            settings.slow_grace_s,
            settings.min_bytes_per_s,
        )
        head, pieces = b"", []
        with _body_errors(0):
            for piece in chunks:
                pieces.append(piece)
                head += piece[: SNIFF_BYTES - len(head)]
                if len(head) >= SNIFF_BYTES:
                    break
        reply = None
        if envelope and head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            reply = self._read_envelope(response, pieces, chunks)
            if reply is None:
                raise MediaFailure("not_media", "JSON body instead of media")
        return _Answer(response, itertools.chain(pieces, chunks), head, reply)

    def _read_envelope(self, response: requests.Response, pieces: list[bytes], chunks: Iterator[bytes]):
        """The station's JSON envelope on a media URL (station-api.md: the codes apply there too)."""
        body = b"".join(pieces)
        with _body_errors(len(body)):
            for piece in chunks:
                body += piece
                if len(body) > ENVELOPE_MAX_BYTES:
                    return None
        try:
            reply = classify_reply(self.session.interface, 200, response.headers, body)
        except RecursionError:
            return None
        if reply.kind == "ok" or (reply.kind == "error" and reply.code is None):
            return None  # JSON, but no station code to act on: not media, as before
        return replace(reply, message=self.session.scrub(reply.message))

    def _stream_to_staging(self, answer: _Answer, final_url: str, staging_dir: Path, limit: int) -> Downloaded:
        response = answer.response
        media_type = _sniff(answer.head) if len(answer.head) >= SNIFF_BYTES else None
        path: Path | None = None
        digest = hashlib.sha256()
        size = 0
        head = answer.head
        try:
            # The staging file's own writes (its close flushes the last of them) apart from the body's reads.
            with _staging_errors(staging_dir):
                staging_dir.mkdir(parents=True, exist_ok=True)
                handle, name = tempfile.mkstemp(prefix="dl-", suffix=".part", dir=staging_dir)
                path = Path(name)
                with os.fdopen(handle, "wb") as out, _body_errors_live(lambda: size):
                    for chunk in answer.chunks:
                        size += len(chunk)
                        if size > limit:
                            raise MediaFailure("too_large", f"body exceeds the {limit}-byte cap")
                        digest.update(chunk)
                        out.write(chunk)
            if media_type is None:
                media_type = _sniff(head)
            try:
                check_media_header(media_type, path)
            except NotMedia as exc:
                raise MediaFailure("not_media", str(exc)) from None
        except BaseException:
            if path is not None:
                path.unlink(missing_ok=True)
            raise
        return Downloaded(path, size, digest.hexdigest(), media_type, final_url, response.headers.get("Content-Type"))


@dataclass
class _Answer:
    response: requests.Response
    chunks: Iterator[bytes]  # the decoded body, the first bytes included
    head: bytes  # its first SNIFF_BYTES bytes (fewer when the body is shorter)
    reply: Reply | None  # the station's envelope, when a station-host media call answered with one


ENVELOPE_MAX_BYTES = 1024 * 1024


@contextlib.contextmanager
def _body_errors(size: int) -> Iterator[None]:
    with _body_errors_live(lambda: size):
        yield


# A disk that is full (or over its quota) is the machine's fault, never the body's: not retried as a cut-off download.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def _staging_errors(staging_dir: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            raise
        detail = f"no space left on the device of the staging folder {staging_dir}"
        raise MediaFailure("disk_full", detail, transient=True) from None


@contextlib.contextmanager
def _body_errors_live(size: Callable[[], int]) -> Iterator[None]:
    """What reading a body can fail with, as a media outcome."""
    try:
        yield
    except BodyTooLarge as exc:
        raise MediaFailure("too_large", str(exc)) from None
    except UnsupportedEncoding as exc:
        raise MediaFailure("http_error", str(exc)) from None
    except BodyCutOff as exc:
        raise TransientMedia(f"download cut off: {exc}") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno in DISK_FULL:
            raise  # the staging file's write, not the body's read (see _staging_errors)
        raise TransientMedia(f"download cut off after {size()} bytes ({exc.__class__.__name__})") from None


def _paced(chunks: Iterator[bytes], grace_s: float, min_bytes_per_s: float) -> Iterator[bytes]:
    """The body, cut when it comes in slower than the minimum rate after the grace time; checked on
    every read (reads return what has arrived), the first bytes included."""
    started, size = time.monotonic(), 0
    for chunk in chunks:
        size += len(chunk)
        elapsed = time.monotonic() - started
        if elapsed > grace_s and size < min_bytes_per_s * elapsed:
            raise TransientMedia(f"too slow: {size} bytes in {elapsed:.0f} s")
        yield chunk


def _raise_for_envelope(reply: Reply) -> None:
    if reply.kind in ("rate_limited", "transient"):
        raise TransientMedia(f"station said {reply.describe()}", reply.retry_after)
    raise MediaFailure("station_error", f"station said {reply.describe()}")


def _sniff(head: bytes) -> MediaType:
    try:
        return sniff_media_type(head)
    except NotMedia as exc:
        raise MediaFailure("not_media", str(exc)) from None


def _raise_for_media_status(status: int, headers: Any) -> None:
    if status == 200:
        return
    if status == 404:
        raise MediaFailure("not_found", "HTTP 404")
    if status == 410:
        raise MediaFailure("gone", "HTTP 410")
    if status == 429 or status in TRANSIENT_HTTP:
        raise TransientMedia(f"HTTP {status}", parse_retry_after(headers.get("Retry-After")))
    raise MediaFailure("http_error", f"HTTP {status}")
