"""Ctrl-C and SIGTERM stop pv-media and what it starts, however it was launched."""

from __future__ import annotations

import signal


def restore_termination_signals() -> list[str]:
    """Put SIGINT and SIGTERM back to Python's defaults where the launcher left them ignored; the names changed.

    A shell without job control (a script's `pv-media collect &`, CI runners, nohup wrappers) starts its
    background commands with SIGINT ignored. Dagster copies SIGINT's handler to SIGTERM
    (dagster._utils.interrupts.setup_interrupt_handlers), so SIGTERM would be ignored too, by this process and
    by every process it starts - the compute-log `tail` each in-process run starts then outlives its 30 s
    clean-up timeout, and a daemon or code server stopped with SIGTERM never stops. Call from the main thread."""
    restored = []
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        restored.append("SIGINT")
    if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        restored.append("SIGTERM")
    return restored
