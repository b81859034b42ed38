"""`pv-media simulate`: the station simulator (the test double), with its own arguments."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def add_parser(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("simulate", help="run the station simulator (see `pv-media simulate --help`)", add_help=False)


def run(rest: Sequence[str]) -> int:
    from pv_simulator.__main__ import main as simulate_main

    return simulate_main(list(rest))
