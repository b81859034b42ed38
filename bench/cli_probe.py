"""Run one command as a child of this small process and measure it as the user would feel it.

`python -m bench.cli_probe OUT_JSON -- COMMAND ...` writes {wall_s, cpu_s, peak_rss_mib, returncode} to OUT_JSON.
Why a process of its own: Linux carries ru_maxrss over from the parent across fork and exec, so the
benchmark (hundreds of MiB) cannot measure a child's peak itself; this process is a few MiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    out, separator, *command = sys.argv[1:]
    assert separator == "--", "usage: python -m bench.cli_probe OUT_JSON -- COMMAND ..."
    started = time.monotonic()
    child = subprocess.Popen(command)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    figures = {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "returncode": os.waitstatus_to_exitcode(status),
    }
    Path(out).write_text(json.dumps(figures), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
