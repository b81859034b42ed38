"""Signed-in sessions, held by the server so that they can be ended.

The cookie carries a random token and nothing else; the server keeps the token's hash with the user
and when the session started. Logging out deletes it, so a copy of the cookie taken before is worth
nothing afterwards. Sessions live in the gallery's memory: a restart - the way a new password takes
effect - ends every one of them.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

MAX_SESSIONS = 10_000  # the oldest end first beyond this


@dataclass(frozen=True)
class Session:
    user: str
    started: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class SessionStore:
    def __init__(self, max_age_s: float, clock=time.time):
        self.max_age_s, self.clock = max_age_s, clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, user: str) -> str:
        """A new session; its token goes into the cookie."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[_digest(token)] = Session(user, self.clock())
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return token

    def user(self, token: str | None) -> str | None:
        """The signed-in user of a cookie's token, or None: unknown, ended or older than max_age_s."""
        if not token or len(token) > 128:
            return None
        digest = _digest(token)
        with self._lock:
            session = self._sessions.get(digest)
            if session is None:
                return None
            if self.clock() - session.started > self.max_age_s:
                del self._sessions[digest]
                return None
            return session.user

    def end(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(_digest(token), None)

    def __len__(self) -> int:
        return len(self._sessions)
