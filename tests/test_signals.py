"""pv-media stops on SIGTERM, and so does what it starts, even when launched with SIGINT ignored."""

import signal
import subprocess
import sys
import textwrap

import pytest

from pv_assets.cli.signals import restore_termination_signals


def test_ignored_signals_are_put_back_and_named():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        assert restore_termination_signals() == ["SIGINT", "SIGTERM"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert restore_termination_signals() == []  # handlers someone chose are left alone
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])


# A process launched with SIGINT ignored, as a script's `pv-media collect &` is; Dagster then maps SIGTERM to
# SIGINT's handler, as its in-process runs do, and starts a child as its compute-log capture starts `tail`.
CHILD_AFTER_DAGSTER = textwrap.dedent(
    """
    import signal, subprocess, sys
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.argv[1] == "restore":
        from pv_assets.cli.signals import restore_termination_signals
        restore_termination_signals()
    from dagster._utils.interrupts import setup_interrupt_handlers
    setup_interrupt_handlers()
    child = subprocess.Popen(["sleep", "30"])  # returns once `sleep` runs: its status is its own
    with open(f"/proc/{child.pid}/status") as status:
        ignored = next(int(line.split()[1], 16) for line in status if line.startswith("SigIgn:"))
    if ignored >> (signal.SIGTERM - 1) & 1:
        child.kill()
        print("ignored SIGTERM")
    else:
        child.terminate()
        print(child.wait(timeout=30))
    """
)


@pytest.mark.integration  # a process of its own
@pytest.mark.parametrize(("launch", "expected"), [("restore", str(-signal.SIGTERM)), ("as-is", "ignored SIGTERM")])
def test_a_child_started_after_dagster_dies_on_sigterm_only_when_signals_are_restored(launch, expected):
    # "as-is" shows the trap is real: without the restore the child starts with SIGTERM ignored (its SigIgn mask).
    done = subprocess.run(
        [sys.executable, "-c", CHILD_AFTER_DAGSTER, launch], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == expected
