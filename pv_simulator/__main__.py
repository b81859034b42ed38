"""`python -m pv_simulator` (`pv-media simulate`): run simulated stations until Ctrl-C or SIGTERM.

`--world small|medium|large` serves a group world (pv_simulator.world): named regional companies,
stations of a long tail of sizes and differing health, typed camera-like photos, planted problems,
with the registry (region names included) and the truth file written for it. Without `--world`,
`--stations N --records M` serves that many single quirky stations, as the client's tests use.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import threading
from pathlib import Path

from pv_model.dialect import InterfaceError, known_dialects, load_interface

from .camera.prerender import prerender
from .camera.render import PHOTO_PROFILES, UnknownProfile, check_profile
from .server import StationSimulator, write_registry
from .spec import SimStationSpec
from .world import SIZES, WorldSizeError
from .world.truth import write_truth
from .world_station import world_of, world_ref, world_specs

_REGION_CODES = ["RC-320100", "RC-320200", "RC-330100", "RC-340100"]
MIXED = "mixed"  # every station of a world in another dialect
PRERENDER_UP_TO = 20_000  # photos drawn ahead on every core; a larger world draws them as they are asked for


def build_specs(
    stations: int,
    records: int,
    seed: int,
    *,
    quirks: bool = True,
    max_connections: int = 4,
    dialect: str = "default",
    url_shapes: str = "text",
) -> list[SimStationSpec]:
    return [
        SimStationSpec(
            station_id=f"ST-{n:04d}",
            region_company_code=_REGION_CODES[(n - 1) % len(_REGION_CODES)],
            records=records,
            seed=seed + n - 1,
            max_connections=max_connections,
            quirks=quirks,
            dialect=dialect,
            url_shapes=url_shapes,
        )
        for n in range(1, stations + 1)
    ]


def build_world_specs(args: argparse.Namespace) -> list[SimStationSpec]:
    """The specs of the world the arguments name; WorldSizeError / UnknownProfile when it cannot be made."""
    check_profile(args.photos)
    ref = world_ref(args.world, args.seed, args.stations, args.installations)
    specs = world_specs(
        ref,
        dialect="default" if args.dialect == MIXED else args.dialect,
        photo_profile=args.photos,
        url_shapes=args.url_shapes,
        max_connections=args.max_connections,
    )
    if args.dialect == MIXED:
        dialects = known_dialects()
        for n, spec in enumerate(specs):
            spec.dialect = dialects[n % len(dialects)]
    return specs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pv-media simulate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--world", choices=sorted(SIZES), help="serve a group world of this size (see docs/world.md)")
    parser.add_argument("--stations", type=int, help="number of stations (default 3; a world: its size's)")
    parser.add_argument("--installations", type=int, help="a world's installations in all (default: its size's)")
    parser.add_argument("--records", type=int, default=30, help="records per single station (default 30)")
    parser.add_argument("--photos", default="small", help=f"a world's photo size: {', '.join(PHOTO_PROFILES)}")
    parser.add_argument("--seed", type=int, default=1, help="world seed (default 1)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before every answer")
    parser.add_argument("--max-connections", type=int, default=4, help="concurrent requests per station")
    parser.add_argument("--clean", action="store_true", help="single stations without the quirks")
    parser.add_argument(
        "--dialect",
        default="default",
        help=f"interface every station speaks (conf/dialects; known: {', '.join(known_dialects())}); "
        f"a world also takes '{MIXED}' (a dialect per station)",
    )
    parser.add_argument("--write-registry", type=Path, metavar="PATH", help="write a stations.yaml here")
    parser.add_argument(
        "--truth",
        type=Path,
        metavar="PATH",
        help="a world's truth file (default: world-truth.json beside the registry)",
    )
    parser.add_argument("--no-prerender", action="store_true", help="draw a world's photos when first asked for")
    parser.add_argument(
        "--wrong-password",
        action="append",
        default=[],
        metavar="STATION_ID",
        help="give this station a wrong password in the printed environment (repeatable)",
    )
    parser.add_argument(
        "--url-shapes",
        choices=("text", "mixed"),
        default="text",
        help="URL fields as v1 writes them (text), or in every shape stations use, varied per record (mixed)",
    )
    return parser


def _specs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[SimStationSpec]:
    try:
        if args.dialect != MIXED or not args.world:
            load_interface(args.dialect)
        if args.world:
            return build_world_specs(args)
        if args.installations is not None:
            parser.error("--installations is for a world (--world SIZE); single stations take --records")
        stations = 3 if args.stations is None else args.stations
        if stations < 1 or args.records < 0:
            parser.error("--stations must be at least 1 and --records at least 0")
        quirks = not args.clean
        return build_specs(stations, args.records, args.seed, quirks=quirks, max_connections=args.max_connections,
                           dialect=args.dialect, url_shapes=args.url_shapes)  # fmt: skip
    except (InterfaceError, WorldSizeError, UnknownProfile) as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    specs = _specs(parser, args)
    if args.world:
        world = world_of(specs[0].world)
        installations = sum(len(plan.installations) for plan in world.stations)
        print(f"world {world.size.label} (seed {world.seed}): {len(world.stations)} stations, "
              f"{installations} installations in {len(world.regions)} regions")  # fmt: skip
        photos = sum(1 for _plan, installation, _photo in world.photos() if installation.picked_up)
        if args.no_prerender or photos > PRERENDER_UP_TO:
            print(f"{photos} photos of picked-up installations are drawn when first asked for (then cached)")
        else:
            print(f"drawing the {photos} photos of picked-up installations (kept in the cache) …", flush=True)
            done = prerender(world, args.photos, picked_up_only=True)
            print(f"{done['pictures']} photos ready in {done['seconds']} s")
    simulator = StationSimulator(specs, host=args.host, latency_ms=args.latency_ms)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():  # signal handlers only work there
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with simulator:
        entries, env = simulator.registry_entries(wrong_password_for=tuple(args.wrong_password))
        if args.write_registry:
            write_registry(args.write_registry, entries, simulator.region_names() if args.world else None)
            print(f"registry written to {args.write_registry}")
        truth = args.truth or (args.write_registry.with_name("world-truth.json") if args.write_registry else None)
        if args.world and truth:
            write_truth(world, truth)
            print(f"truth file written to {truth}")
        for entry in entries:
            api_url = simulator.api_url(entry["id"])
            regional = f"  (API at {api_url})" if api_url != entry["base_url"] else ""
            print(f"{entry['id']}  {entry['base_url']}  {entry['name']}{regional}")
        print(f"CDN  http://{simulator.cdn_host}")
        for name, value in env.items():
            print(f"export {name}={shlex.quote(value)}")
        print("serving; Ctrl-C to stop", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
