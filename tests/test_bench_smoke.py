"""The benchmark harness runs end to end at a tiny size and prints its JSON line.

No timing is asserted here: performance is measured by `make bench`, not by tests.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # the bench as a subprocess against its servers (tests/tiers.py)

ROOT = Path(__file__).resolve().parents[1]


def test_bench_prints_a_table_and_the_json_line():
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--small", "40", "--big-mib", "4", "--rerun", "80"]
        + ["--gallery-stations", "20"]
        + ["--photos", "2", "--video-mib", "4", "--index-stations", "40", "--phone-photos", "4"]
        + ["--evidence-world", "tiny", "--hashes", "2000", "--self-join", "1000", "--merge-stations", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert set(result) == {"many_small", "big_file", "rerun", "gallery", "previews", "e2e", "evidence"}
    evidence = result["evidence"]
    for kind in ("reuse", "gps_far", "captured_early", "no_camera_data"):  # the tiny world: every case, nothing else
        assert (evidence[f"{kind}_precision"], evidence[f"{kind}_recall"]) == (1.0, 1.0), kind
    assert evidence["stored_hashes"] == 2000 and evidence["one_station_pieces_read"] == 1
    assert evidence["merge_photos"] == 20 * 500
    e2e = result["e2e"]
    assert e2e["photos"] == 40 and e2e["nothing_new_downloads"] == 0 and e2e["phone_photos"] == 4
    assert {"bound_fraction", "nothing_new_wall_s", "nothing_new_peak_rss_mib", "phone_draft_speedup"} <= set(e2e)
    previews = result["previews"]
    assert previews["photos_photos"] == 2 and previews["poster_same_poster"] is True
    assert {"photos_speedup", "poster_rss_ratio", "index_update_ratio", "index_filter_ratio"} <= set(previews)
    assert {"speedup", "bound_fraction"} <= set(result["many_small"])
    assert {"size_mib", "peak_rss_mib", "ratio"} <= set(result["big_file"])
    assert {"objects", "downloads", "time_fraction"} <= set(result["rerun"])
    assert result["rerun"]["objects"] == 80 and result["rerun"]["downloads"] == 0
    assert result["gallery"]["stations"] == 21 and result["gallery"]["items"] == 20 * 100 + 5000 * 2
    assert {"overview_ms", "station_ms", "big_station_ms", "speedup_vs_filtered_read"} <= set(result["gallery"])
    assert result["many_small"]["busy_429"] == 0  # never more connections than the station allows
    assert any(line.startswith("many_small") for line in lines[:-1])  # the readable table
