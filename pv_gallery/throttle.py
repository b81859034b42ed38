"""Failed-login limits that hold under concurrency and that an attacker cannot turn against the real user.

An attempt is *reserved* before anything is awaited (the request body, the password check): 40
logins sent at once see the limit as if they had come one after another. A right password gives its
reservation back; a wrong one keeps it as a failure for `window_s`.

Who is counted (docs/security.md):
- a browser that signed in before carries a signed "known browser" cookie: its failures count
  against that browser only (`per_client`), so nobody else's guessing can lock it out;
- any other attempt counts against its client address (`per_client`; the address is the TCP peer,
  or X-Forwarded-For only from a configured proxy) and against the whole account (`per_account`,
  every address together): guessing from many addresses stops there, and a new browser of the real
  user waits at most `window_s` after the guessing stops.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

ACCOUNT = "account"
MAX_TRACKED = 10_000  # clients remembered; the oldest are forgotten first


@dataclass
class Reservation:
    """The failure entries one attempt holds until it is settled."""

    entries: list[tuple[str, float]] = field(default_factory=list)


class LoginThrottle:
    def __init__(self, per_client: int, per_account: int, window_s: float, clock=time.monotonic):
        self.per_client, self.per_account, self.window_s, self.clock = per_client, per_account, window_s, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def reserve(self, client: str, device: str | None) -> Reservation | int:
        """A reservation for one attempt, or the seconds to wait (>= 1) when the limit is reached."""
        keys = (
            [(f"device:{device}", self.per_client)]
            if device
            else [
                (f"client:{client}", self.per_client),
                (ACCOUNT, self.per_account),
            ]
        )
        with self._lock:
            now = self.clock()
            waits = []
            for key, limit in keys:
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(times[len(times) - limit] + self.window_s - now)
            if waits:
                return int(max(waits)) + 1
            reservation = Reservation()
            for key, _limit in keys:
                self._failures.setdefault(key, deque()).append(now)
                reservation.entries.append((key, now))
            self._forget_oldest()
            return reservation

    def release(self, reservation: Reservation) -> None:
        """The attempt tested no password (a refused body, a broken form): it counts for nothing."""
        with self._lock:
            for key, at in reservation.entries:
                times = self._failures.get(key)
                if times is not None and at in times:
                    times.remove(at)
            reservation.entries.clear()

    def succeeded(self, reservation: Reservation) -> None:
        """The right password: the attempt is given back, and the client's or browser's failures forgotten."""
        keys = [key for key, _at in reservation.entries if key != ACCOUNT]
        self.release(reservation)
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _forget_oldest(self) -> None:
        if len(self._failures) > MAX_TRACKED:
            for stale in [k for k in list(self._failures)[: MAX_TRACKED // 10] if k != ACCOUNT]:
                del self._failures[stale]


class KnownBrowsers:
    """The "known browser" cookie: a random id and its HMAC, so a client cannot make one up."""

    def __init__(self, key: bytes):
        self.key = key

    def _mac(self, browser_id: str) -> str:
        return hmac.new(self.key, browser_id.encode("ascii"), "sha256").hexdigest()[:32]

    def issue(self) -> str:
        browser_id = secrets.token_hex(16)
        return f"{browser_id}.{self._mac(browser_id)}"

    def verify(self, cookie: str | None) -> str | None:
        """The browser id of a genuine cookie, else None."""
        if not cookie or cookie.count(".") != 1 or len(cookie) > 80:
            return None
        browser_id, mac = cookie.split(".")
        if not browser_id.isalnum() or not browser_id.isascii():
            return None
        return browser_id if hmac.compare_digest(mac, self._mac(browser_id)) else None
