"""The group world over HTTP: every dialect serves the same world, and what is served agrees with the truth file."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time
from collections import Counter
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from PIL import Image, ImageOps

from pv_assets.collection.record_table import media_refs
from pv_model.dialect import dig, known_dialects, load_interface, parse_path
from pv_simulator import StationSimulator, world_ref, world_specs
from pv_simulator.camera.exif import DATETIME_ORIGINAL, EXIF_IFD, MAKE, MODEL, ORIENTATION, read_gps
from pv_simulator.file_ids import url_of
from pv_simulator.world.geography import distance_m
from pv_simulator.world.truth import truth_document
from pv_simulator.world_station import world_of
from resources.station_api import StationClient, StationEndpoint

pytestmark = pytest.mark.integration  # the world served over HTTP (tests/tiers.py)

REF = world_ref("tiny", 3)
TIMEOUT = 10


@pytest.fixture(scope="module")
def world():
    return world_of(REF)


@pytest.fixture(scope="module")
def truth(world):
    return truth_document(world)


def client(sim: StationSimulator, station_id: str, dialect: str) -> StationClient:
    spec = sim.station(station_id).spec
    endpoint = StationEndpoint(
        station_id, sim.base_url(station_id), spec.account, spec.password, 4, (sim.cdn_host,),
        placeholders={"station_id": station_id, "station_code": station_id},
    )  # fmt: skip
    return StationClient(endpoint, load_interface(dialect))


def typed_photos(record: dict, dialect: str) -> Counter:
    """(canonical type, file name) of a record's photos, read the way the dialect declares them."""
    fields = load_interface(dialect).fields
    found: Counter = Counter()
    for ref in media_refs(record, load_interface(dialect)):
        if ref.kind != "photo":
            continue
        kind = fields.photo_types.get(ref.field, "other")
        if fields.photo_type_values:  # attachment objects: the type value next to the URL
            parent = ref.field.rpartition("[*].")[0] or ref.field
            for item in dig(record, parent + "[*]") or []:
                if isinstance(item, dict) and ref.url in str(item.get(fields.url_key) or item.get("url") or ""):
                    kind = fields.photo_type_of(ref.field, str(item.get(fields.type_key)))
        url = ref.url
        if ref.field in fields.url_templates:  # a file id: the simulator's id names the world's URL
            url = url_of(parse_qs(urlsplit(url).query)["fileId"][0])
        found[(kind, unquote(urlsplit(url).path).rsplit("/", 1)[-1])] += 1
    return found


@pytest.mark.parametrize("dialect", known_dialects())
def test_every_dialect_serves_the_same_world_with_typed_photos_and_planner_fields(dialect, world):
    collectable = [p for p in world.stations if p.health not in ("login_fails", "slow")][:2]
    specs = [
        s
        for s in world_specs(REF, dialect=dialect, photo_profile="tiny")
        if s.station_id in {p.station_id for p in collectable}
    ]
    with StationSimulator(specs) as sim:
        for plan in collectable:
            records = list(client(sim, plan.station_id, dialect).iter_records())
            iface = load_interface(dialect)
            by_id = {str(dig(r, iface.fields.record_id)): r for r in records}
            assert sorted(by_id) == [i.record_id for i in plan.installations]
            for installation in plan.installations:
                record = by_id[installation.record_id]
                expected = Counter((p.type, p.name) for p in installation.photos)
                assert typed_photos(record, dialect) == expected, (dialect, installation.record_id)
                assert record["capacityKw"] == installation.capacity_kw and record["county"] == installation.county
                assert (record["latitude"], record["longitude"]) == (installation.lat, installation.lon)
                install_date = installation.install_date.isoformat() if installation.install_date else None
                assert record["installDate"] == install_date and record["village"] == installation.village
    assert all(parse_path(path) for path in iface.fields.photo_types)  # every typed field is a path the client reads


def test_what_is_served_agrees_with_the_truth(world, truth):
    specs = world_specs(REF, photo_profile="tiny")
    by_station = {s["id"]: s for s in truth["stations"]}
    far = {(f["station_id"], f["path_tail"]): f for f in truth["findings"]["gps_far"]}
    early = {(f["station_id"], f["path_tail"]): f for f in truth["findings"]["captured_early"]}
    no_exif = {(f["station_id"], f["path_tail"]) for f in truth["findings"]["no_exif"]}
    with StationSimulator(specs) as sim:
        entries, env = sim.registry_entries()
        assert set(sim.region_names()) == {r["code"] for r in truth["regions"]}
        for entry, spec in zip(entries, specs, strict=True):
            plan = world.station(spec.station_id)
            password = env[entry["password_env"]]
            credentials = {"account": spec.account, "password": password}
            login_url = sim.base_url(spec.station_id) + "/api/v1/auth/login"
            login = requests.post(login_url, json=credentials, timeout=TIMEOUT).json()
            if plan.health == "login_fails":
                assert login["code"] == 1001 and truth["figures"]["failing_stations"] == [spec.station_id]
                continue
            session = requests.Session()
            session.headers["Authorization"] = "Bearer " + login["data"]["token"]
            station_host = urlsplit(sim.base_url(spec.station_id)).netloc
            failing = Counter()
            installations = {i.record_id: i for i in plan.installations}
            # The slow station answers 400 ms late: a few of its files prove it serves the same world.
            fetches_left = 4 if plan.health == "slow" else None
            for item in sim.expected_media(spec.station_id):
                if not item.picked_up:
                    continue
                if item.outcome != "ok":
                    failing[item.outcome] += 1
                if fetches_left is not None:
                    if fetches_left == 0:
                        continue
                    fetches_left -= 1
                own = urlsplit(item.canonical_url).netloc == station_host
                answer = (session if own else requests).get(item.canonical_url, timeout=TIMEOUT)
                if item.outcome != "ok":
                    assert answer.status_code == {"not_found": 404, "gone": 410, "html": 200}[item.outcome]
                    continue
                assert hashlib.sha256(answer.content).hexdigest() == item.sha256
                if item.kind == "video":
                    assert answer.content[4:8] == b"ftyp"
                    continue
                key = (
                    spec.station_id,
                    f"{item.record_id}/{unquote(urlsplit(item.canonical_url).path).rsplit('/', 1)[-1]}",
                )
                _check_photo(answer.content, installations[item.record_id], key, far, early, no_exif)
            assert dict(failing) == by_station[spec.station_id]["failing_by_outcome"]


def _check_photo(data: bytes, installation, key, far, early, no_exif) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        tags = image.getexif()
        if key in no_exif:
            assert MAKE not in tags
            return
        assert tags[MAKE] and tags[MODEL] and tags.get(ORIENTATION, 1) in (1, 3, 6, 8)
        upright = ImageOps.exif_transpose(image)
        assert upright.width * upright.height >= 180 * 240
        taken = tags.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL]
        days_before = (installation.install_date - dt.date(*map(int, taken[:10].split(":")))).days
        assert (days_before > 30) == (key in early)
        if key in early:
            assert early[key]["days_before_install"] == days_before
        gps = read_gps(tags)
        if gps is not None:
            distance = distance_m(installation.lat, installation.lon, *gps)
            assert (distance > 1_000) == (key in far)
            if key in far:
                assert far[key]["distance_m"] == pytest.approx(distance, abs=2)


def test_the_stale_station_can_be_served_as_it_was_and_the_slow_one_answers_late(world):
    stale = next(p for p in world.stations if p.stale_days)
    slow = next(p for p in world.stations if p.latency_ms)
    specs = [s for s in world_specs(REF, photo_profile="tiny") if s.station_id in (stale.station_id, slow.station_id)]
    with StationSimulator(specs) as sim:
        sim.station(stale.station_id).as_of = f"{stale.stale_since:%Y-%m-%d %H:%M:%S}"
        then = list(client(sim, stale.station_id, "default").iter_records())
        assert {r["recordId"] for r in then} == {
            i.record_id for i in stale.installations if i.updated_at <= stale.stale_since
        }
        assert len(then) < len(stale.installations)
        sim.station(stale.station_id).as_of = None
        assert len(list(client(sim, stale.station_id, "default").iter_records())) == len(stale.installations)
        started = time.monotonic()
        requests.post(sim.base_url(slow.station_id) + "/api/v1/auth/login", json={}, timeout=TIMEOUT)
        assert time.monotonic() - started >= slow.latency_ms / 1000  # a lower bound: the answer waited that long
