"""Dialect hooks: Python for what no dialect key can say. The shipped example.

A dialect names a hook with `hook: package.module:function`, or by the name of an entry point
in the group `pv_media.dialect_hooks` (a plug-in package declares it in its pyproject.toml:
`[project.entry-points."pv_media.dialect_hooks"] my_vendor = "my_pkg.hooks:sign"`). The hook is
called once per request to the station's own origin - never for other hosts - with a
`resources.station_api.auth.OutgoingRequest`: it may add headers or query parameters, and reads
the registry's credentials from `request.key_id` and `request.secret`. It must not log them or
put them anywhere else; the token rules hold for hooks too.

The example signs Tuya-style: `client_id`, `t` (epoch milliseconds) and `sign`, the upper-case
hex HMAC-SHA256 of key id + t + method + path under the secret. It is registered as the entry
point `timestamp_hmac`, and `verify` is what a station (the simulator) checks.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from resources.station_api.auth import OutgoingRequest

MAX_SKEW_MS = 15 * 60 * 1000


def _signature(key_id: str, secret: str, stamp: str, method: str, path: str) -> str:
    message = f"{key_id}{stamp}{method}{path}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()


def sign_timestamp(request: OutgoingRequest) -> None:
    stamp = str(int(time.time() * 1000))
    request.headers["client_id"] = request.key_id
    request.headers["t"] = stamp
    request.headers["sign"] = _signature(request.key_id, request.secret, stamp, request.method, request.path)


def verify(headers: Mapping[str, str], method: str, path: str, key_id: str, secret: str) -> bool:
    """The station's side: a fresh timestamp and the signature of this very request."""
    stamp = headers.get("t") or ""
    if headers.get("client_id") != key_id or not stamp.isdigit():
        return False
    if abs(time.time() * 1000 - int(stamp)) > MAX_SKEW_MS:
        return False
    return hmac.compare_digest(headers.get("sign") or "", _signature(key_id, secret, stamp, method, path))


sign_timestamp.verify = verify  # type: ignore[attr-defined] - how the simulator finds the check
