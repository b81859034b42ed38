"""`python -m pv_simulator`: run simulated stations until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import shlex
import signal
import threading
from pathlib import Path

from resources.interface import InterfaceError, known_dialects, load_interface

from .server import StationSimulator, write_registry
from .station_world import SimStationSpec

_REGION_CODES = ["RC-320100", "RC-320200", "RC-330100", "RC-340100"]


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pv-media simulate", description=__doc__)
    parser.add_argument("--stations", type=int, default=3, help="number of stations (default 3)")
    parser.add_argument("--records", type=int, default=30, help="records per station (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="world seed (default 1)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before every answer")
    parser.add_argument("--max-connections", type=int, default=4, help="concurrent requests per station")
    parser.add_argument("--clean", action="store_true", help="a clean world without the quirks")
    parser.add_argument(
        "--dialect",
        default="default",
        help=f"interface every station speaks (conf/dialects; known: {', '.join(known_dialects())})",
    )
    parser.add_argument("--write-registry", type=Path, metavar="PATH", help="write a stations.yaml here")
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


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        load_interface(args.dialect)
    except InterfaceError as error:
        parser.error(str(error))
    specs = build_specs(
        args.stations,
        args.records,
        args.seed,
        quirks=not args.clean,
        max_connections=args.max_connections,
        dialect=args.dialect,
        url_shapes=args.url_shapes,
    )
    simulator = StationSimulator(specs, host=args.host, latency_ms=args.latency_ms)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():  # signal handlers only work there
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with simulator:
        entries, env = simulator.registry_entries(wrong_password_for=tuple(args.wrong_password))
        if args.write_registry:
            write_registry(args.write_registry, entries)
            print(f"registry written to {args.write_registry}")
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
