"""A hook through which a long collection reports progress (the CLI draws bars from it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    station_id: str
    done: int
    total: int
    bytes: int


Listener = Callable[[Progress], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def add_listener(listener: Listener) -> None:
    with _lock:
        _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def report(progress: Progress) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(progress)
