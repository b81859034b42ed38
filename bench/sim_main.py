"""The station simulator as a separate process for the benchmark, so it does not share pv-media's GIL.

Usage: python -m bench.sim_main SPEC_JSON OUT_JSON [--latency-ms N] [--one-port]
Writes {"entries": [...registry entries...], "env": {...credentials...}} to OUT_JSON, then serves.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from pv_simulator import SimStationSpec, StationSimulator
from pv_simulator.multi import MultiStationSimulator


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec", help="JSON list of SimStationSpec keyword arguments, or @FILE holding it")
    parser.add_argument("out", type=Path)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--one-port", action="store_true", help="every station on one port (path prefix)")
    args = parser.parse_args()
    specs = []
    spec_text = Path(args.spec[1:]).read_text("utf-8") if args.spec.startswith("@") else args.spec
    for raw in json.loads(spec_text):
        for key in ("photo_size", "video_size", "photos_per_record", "videos_per_record"):
            if key in raw:
                raw[key] = tuple(raw[key])
        specs.append(SimStationSpec(**raw))
    simulator_class = MultiStationSimulator if args.one_port else StationSimulator
    sim = simulator_class(specs, latency_ms=args.latency_ms, retry_after="1").start()
    entries, env = sim.registry_entries()
    ok_media = {s.station_id: [m for m in sim.expected_media(s.station_id) if m.picked_up and m.outcome == "ok"]
                for s in specs}  # fmt: skip
    expected = {station_id: len(media) for station_id, media in ok_media.items()}
    expected_sha256 = {station_id: sorted(m.sha256 for m in media) for station_id, media in ok_media.items()}
    tmp = args.out.with_suffix(".tmp")
    document = {"entries": entries, "env": env, "expected": expected, "expected_sha256": expected_sha256}
    tmp.write_text(json.dumps(document), "utf-8")
    tmp.rename(args.out)  # the parent waits for this file
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
