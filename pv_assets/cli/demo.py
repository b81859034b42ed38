"""`pv-media demo`: the simulator's world collected through real runs. The demo lives with the simulator
(pv_demo, which needs pv_simulator) so the runtime never imports the test double; it is loaded only for this command."""

from __future__ import annotations

import argparse
from pathlib import Path

from pv_assets.cli.console import err


def add_parser(commands: argparse._SubParsersAction) -> None:
    demo_cmd = commands.add_parser("demo", help="simulate a few stations and collect them into a local store")
    demo_cmd.add_argument(
        "--dir",
        default="var/demo",
        help="where the demo keeps its store, registry and Dagster instance (default var/demo)",
    )
    demo_cmd.add_argument("--dialect", default="default", help="the dialect the simulated stations speak")
    demo_cmd.add_argument(
        "--world",
        default="small",
        help="the simulated group's size: tiny, small (default: about a minute), medium (tens of stations, "
        "thousands of installations); see docs/world.md",
    )
    demo_cmd.add_argument(
        "--photos", default="small", help="photo size: tiny, small (default, ~1024 px), phone (4000x3000, several MB)"
    )
    demo_cmd.add_argument("--gallery", action="store_true", help="then open the gallery on the demo's data")


def run(args: argparse.Namespace) -> int:
    try:
        from pv_demo.demo import run_demo
        from pv_simulator.camera.render import UnknownProfile, check_profile
        from pv_simulator.world import WorldSizeError, world_size
    except ImportError as exc:  # a production install without the simulator's extra
        err.print(
            f"[red]error:[/red] `pv-media demo` needs the station simulator, which is not installed ({exc}); "
            "install the development extra: `make install` or `uv sync --extra dev`"
        )
        return 2
    from pv_model.dialect import InterfaceError, load_interface

    try:  # a typo is a usage error, before anything is started or created
        load_interface(args.dialect)
        world_size(args.world)
        check_profile(args.photos)
    except (InterfaceError, WorldSizeError, UnknownProfile) as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    return run_demo(Path(args.dir), args.dialect, gallery=args.gallery, world_size=args.world, photos=args.photos)
