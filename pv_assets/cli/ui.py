"""`pv-media ui`: the Dagster UI over the instance that `pv-media collect` writes to."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from pv_assets.cli.console import err, prepare_dagster_home


def add_parser(commands: argparse._SubParsersAction) -> None:
    commands.add_parser(
        "ui",
        help="the Dagster UI (dagster dev -w workspace.yaml) over the instance that collect writes to",
        add_help=False,
    )


def run(rest: Sequence[str]) -> int:
    home = prepare_dagster_home()  # with conf/dagster.yaml, so the run limits hold for sensor runs too
    err.print(f"DAGSTER_HOME={home}")
    os.execv(sys.executable, [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", *rest])  # noqa: S606
    return 0  # not reached: execv replaces this process
