"""A total deadline for one HTTP exchange, on top of the per-read timeout.

A read timeout only bounds the wait for the next byte: a station that sends one byte every few
seconds never trips it. Inside `total_deadline(seconds)`, every connection that the current
thread sends a request on is registered; when the time is up, one shared watchdog thread shuts
those sockets down, so a read blocked in any phase (headers, a 256 KiB read, a drip) returns at
once and the caller sees `deadline.expired`.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator

_current = threading.local()


class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self.done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if self.expired:
                _shut(sock)
            elif sock not in self._sockets:
                self._sockets.append(sock)

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def finish(self) -> None:
        with self._lock:
            self.done = True
            self._sockets.clear()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread for every deadline of the process (not a timer thread per request)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._finished = 0

    def finished(self) -> None:
        with self._cond:
            self._finished += 1

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            if self._finished > 256 and self._finished * 2 > len(self._heap):
                # Finished deadlines far in the future (a media hour) would pile up until their time.
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._finished = 0
            heapq.heappush(self._heap, (deadline.at, next(self._counter), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="pv-deadline-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(timeout=60)
                    continue
                at, _, deadline = self._heap[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self._cond.wait(timeout=wait)
                    continue
                heapq.heappop(self._heap)
            deadline.fire()


_watchdog = _Watchdog()


@contextlib.contextmanager
def total_deadline(seconds: float | None) -> Iterator[Deadline | None]:
    """Bound every request sent by this thread inside the block to `seconds` in total.

    Deadlines nest: a request inside two blocks is cut by whichever ends first (a sensor's budget
    around a client's per-call deadline)."""
    if seconds is None:
        yield None
        return
    deadline = Deadline(seconds)
    stack = _stack()
    stack.append(deadline)
    _watchdog.add(deadline)
    try:
        yield deadline
    finally:
        deadline.finish()
        _watchdog.finished()
        stack.remove(deadline)


def _stack() -> list[Deadline]:
    if not hasattr(_current, "stack"):
        _current.stack = []
    return _current.stack


def watch_connection(sock: socket.socket | None) -> None:
    """Called by the connection class when it sends a request: the current deadlines may cut it."""
    for deadline in getattr(_current, "stack", ()):
        deadline.watch(sock)
