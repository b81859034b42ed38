"""`pv-media dialect check`: what the dialect makes of a station's first page (secrets never shown)."""

from __future__ import annotations

import argparse

from pv_assets.cli.console import err, out


def add_parser(commands: argparse._SubParsersAction) -> None:
    dialect_cmd = commands.add_parser("dialect", help="work on a station's dialect")
    dialect_commands = dialect_cmd.add_subparsers(dest="dialect_command", required=True)
    check_cmd = dialect_commands.add_parser(
        "check", help="log in, read the first page, and show what the dialect made of it (secrets never shown)"
    )
    check_cmd.add_argument("--station", required=True, metavar="ID", help="a station id of the registry")
    check_cmd.add_argument(
        "--stations", metavar="FILE", help="the registry (default: $PV_STATIONS_FILE, else conf/stations.yaml)"
    )


def run(args: argparse.Namespace) -> int:
    from pv_assets.collection.dialect_check import check_station
    from pv_model.registry import RegistryError

    try:
        return check_station(args.station, args.stations, emit=lambda line: out.print(line, markup=False))
    except RegistryError as exc:
        err.print(f"[red]{exc}[/red]")
        return 2
