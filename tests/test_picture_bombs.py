"""Pictures a hostile station sends to the preview step (issue 21, points 10-11), measured in a child process.

Small files that claim 13000 x 13000 pixels - a 28-byte WebP, a PNG of zeros, a progressive JPEG and a
HEIC with a forged frame size - are served by a real HTTP station, collected into a store and previewed
by two workers. Peak memory must not follow what the pictures claim, and each gets a clear verdict. A
decoder that runs out of memory says nothing about the file: the item is retried, never written off.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pv_assets.gallery.previews.plan import PERMANENT_PREVIEW_PROBLEMS, plan_previews

pytestmark = pytest.mark.integration  # bombs decoded in child processes, memory measured (tests/tiers.py)

ROOT = Path(__file__).resolve().parents[1]

# The child: a hostile station serves the pictures, the collector stores them, two preview workers build.
CHILD = r"""
import json, re, sys
from pathlib import Path
from pv_assets.collection.collector import StationCollector
from pv_assets.gallery.previews.builder import build_previews
import io
from PIL import Image
from resources.object_store import LocalDirObjectStore
from tests.hostile import HostileStation, heic_claiming, png_bomb, progressive_jpeg_claiming, tiny_webp


def jpeg(width, height):
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()

def peak_mib():
    return int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024

root, claim = Path(sys.argv[1]), int(sys.argv[2])
pictures = {
    "bomb.webp": (tiny_webp(claim, claim), "image/webp"),
    "bomb.png": (png_bomb(claim, claim), "image/png"),
    "bomb.jpg": (progressive_jpeg_claiming(claim, claim), "image/jpeg"),
    "bomb.heic": (heic_claiming(claim, claim), "image/heic"),
    "fine.jpg": (jpeg(1600, 1200), "image/jpeg"),
}
def serve(data, kind):
    return lambda handler: handler.send_raw(200, data, kind)

routes = {f"/files/{name}": serve(*sent) for name, sent in pictures.items()}
store = LocalDirObjectStore(root / "store")
with HostileStation(routes) as station:
    collector = StationCollector(station.client(), store, root / "staging", "run-1", workers=1)
    outcomes = []
    for n, name in enumerate(pictures):
        row = {"station_id": "ST-H", "record_id": f"R{n}", "url_hash": f"{n:08x}", "media_field": "photo"}
        row.update(source_url=f"{station.base_url}/files/{name}", key_stem=f"RC-1/ST-H/11010519491231002X_{n:08x}")
        outcomes.append(collector.collect_one(row))
stored = {o["record_id"]: o["outcome"] for o in outcomes}
before = peak_mib()
rows, tally = build_previews(store, outcomes, workers=2)
names = {f"R{n}": name for n, name in enumerate(pictures)}
print(json.dumps({"stored": stored, "before_mib": before, "peak_mib": peak_mib(),
                  "problems": {names[r["record_id"]]: r["preview_problem"] for r in rows},
                  "sizes": {names[r["record_id"]]: [r["width"], r["height"]] for r in rows}}))
"""


def run_child(script: str, *args: str, tmp_path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_pictures_claiming_13000_x_13000_are_refused_on_their_header_with_flat_memory(tmp_path):
    report = run_child(CHILD, "13000", tmp_path=tmp_path)
    assert set(report["stored"].values()) == {"uploaded"}  # the station's files are stored: only previews refuse
    limit = "over the limit of 64 MP (PV_PREVIEW_MAX_PIXELS)"
    problems = report["problems"]
    for name in ("bomb.webp", "bomb.png", "bomb.heic"):
        assert problems[name] == f"too_many_pixels: 13000 x 13000 = 169.0 MP, {limit}", name
    assert problems["bomb.jpg"] == f"too_many_pixels: 13000 x 13000 = 169.0 MP (progressive JPEG), {limit}"
    assert problems["fine.jpg"] is None and report["sizes"]["fine.jpg"] == [1600, 1200]
    grown = report["peak_mib"] - report["before_mib"]
    # Decoded, each would take 0.5-0.7 GB (RGB) and the WebP 3.4 GB; refused on the header, nothing grows.
    assert grown < 64, f"the preview step grew by {grown:.0f} MiB"


# The child: one photo within the pixel limit, decoded while the process may not grow by that much.
CHILD_STARVED = r"""
import json, resource, sys
from pathlib import Path
from pv_assets.gallery.previews.builder import build_previews
from resources.object_store import LocalDirObjectStore
from tests.hostile import tiny_webp

root = Path(sys.argv[1])
store = LocalDirObjectStore(root / "store")
key = "RC-1/ST-H/11010519491231002X_0000000a.webp"
data = tiny_webp(5000, 5000)  # 25 MP: within the limit; its decoder needs two 100 MB canvases
store.put_bytes(key, data, "image/webp")
outcome = {"station_id": "ST-H", "record_id": "R1", "url_hash": "0000000a", "outcome": "uploaded",
           "object_key": key, "size": len(data)}
vm = int(next(l for l in open("/proc/self/status") if l.startswith("VmSize:")).split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + 120 * 1024 * 1024, resource.RLIM_INFINITY))
rows, _tally = build_previews(store, [outcome], workers=1)
print(json.dumps({"row": {k: v for k, v in rows[0].items() if isinstance(v, (str, int, float, type(None)))},
                  "outcome": outcome}))
"""


def test_a_decoder_out_of_memory_is_transient_and_the_item_is_retried(tmp_path):
    report = run_child(CHILD_STARVED, tmp_path=tmp_path)
    row = report["row"]
    assert row["preview_outcome"] == "failed"
    assert row["preview_problem"].startswith("resource: "), row["preview_problem"]
    assert "retried on the next run" in row["preview_problem"]
    assert not row["preview_problem"].startswith(PERMANENT_PREVIEW_PROBLEMS)
    # The next run, with that row as the previous one, reads the original again.
    (task,) = plan_previews([report["outcome"]], set(), {row["item_id"]: row})
    assert task.missing == ("thumb_key", "medium_key") and task.row["preview_outcome"] is None


@pytest.mark.parametrize(
    ("head", "size"),
    [
        (bytes.fromhex("5249464614000000574542505650384c080000002fc7f2b10c888808"), (13000, 13000)),  # VP8L
        (b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x10\x00\x00\x00" + (12999).to_bytes(3, "little") * 2, None),
    ],
)
def test_a_webp_canvas_is_read_from_its_header(head, size):
    from pv_assets.gallery.previews.bounds import webp_size

    expected = size or (13000, 13000)
    assert webp_size(head) == expected
    assert webp_size(head[:20]) is None and webp_size(b"RIFF....WEBPVP8 " + bytes(14)) is None


# The child: a picture at the limit decoded alone, then two at once by two workers; peak memory each time.
CHILD_BUDGET = r"""
import json, re, sys
from pathlib import Path
from pv_assets.gallery.previews.builder import build_previews
from resources.object_store import LocalDirObjectStore
from tests.hostile import png_bomb

def peak_mib():
    return int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024

def reset_peak():
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from the current RSS

root = Path(sys.argv[1])
store = LocalDirObjectStore(root / "store")
outcomes = []
for n in range(3):
    key = f"RC-1/ST-H/11010519491231002X_{n:08x}.png"
    data = png_bomb(8000, 7000)  # 56 MP: within the 64 MP limit, 168 MB decoded
    store.put_bytes(key, data, "image/png")
    outcomes.append({"station_id": "ST-H", "record_id": f"R{n}", "url_hash": f"{n:08x}", "outcome": "uploaded",
                     "object_key": key, "size": len(data)})
reset_peak()
base = peak_mib()
alone, _ = build_previews(store, outcomes[:1], workers=1)
one = peak_mib() - base
reset_peak()
base = peak_mib()
both, _ = build_previews(store, outcomes[1:], workers=2)
two = peak_mib() - base
print(json.dumps({"one_mib": one, "two_mib": two, "outcomes": [r["preview_outcome"] for r in alone + both]}))
"""


def test_two_workers_decode_at_most_the_pixel_limit_at_once(tmp_path):
    report = run_child(CHILD_BUDGET, tmp_path=tmp_path)
    assert report["outcomes"] == ["built"] * 3
    # Two pictures at the limit by two workers cost what one does: the second waits for the first's pixels.
    assert report["one_mib"] > 150, report  # the decode itself: 8000 x 7000 x 3 bytes
    assert report["two_mib"] < 1.3 * report["one_mib"], report
