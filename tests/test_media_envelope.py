"""The station's JSON envelope on its own media URLs is read like every other reply (issue 9)."""

from __future__ import annotations

from collections import Counter

import pytest

from pv_model.identity import normalize_id_card
from pv_simulator import SimStationSpec
from resources.dagster_resources import LocalStoreResource
from resources.object_store import LocalDirObjectStore
from resources.station_api import MediaFailure
from tests.conftest import fast_station_api, media_objects, run_station, sha256, write_registry
from tests.test_station_client import Sleeps, make_client


def station_host_media(sim, station_id="ST-0001"):
    return [m for m in sim.expected_media(station_id) if m.outcome == "ok" and "/files/" in m.canonical_url]


def test_an_envelope_on_a_media_url_logs_in_again_backs_off_and_names_other_codes(simulator_factory, tmp_path):
    sim = simulator_factory([SimStationSpec("ST-0001", records=12, seed=71)])
    state = sim.station("ST-0001")
    state.media_errors_as_envelope = True
    state.token_max_uses = 2  # a token that lives for two calls
    sleeps = Sleeps()
    client = make_client(sim, sleep=sleeps)
    client.login()
    media = station_host_media(sim)
    assert len(media) >= 3
    state.script("media", ["code429", "code500"])
    for item in media:
        got = client.download(item.canonical_url, tmp_path)
        assert sha256(got.path.read_bytes()) == item.sha256
        got.path.unlink()
    # Tokens live for two calls: every second download met the envelope 401 and logged in again.
    assert state.logins >= len(media) // 2  # the envelope's 401 was a re-login, not a failure
    assert len(sleeps) == 2  # 429 and 500 were backed off and retried
    state.script("media", ["code1003"])
    with pytest.raises(MediaFailure) as failure:
        client.download(media[0].canonical_url, tmp_path)
    assert failure.value.reason == "station_error"
    assert "code 1003" in str(failure.value) and "业务错误" in str(failure.value)


def test_a_station_with_short_lived_tokens_and_envelopes_on_media_is_collected_completely_in_one_run(
    simulator_factory, tmp_path, monkeypatch, staging_dir, dagster_instance
):
    sim = simulator_factory([SimStationSpec("ST-0001", records=24, seed=72)])
    state = sim.station("ST-0001")
    state.media_errors_as_envelope = True
    state.token_max_uses = 3
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    result = run_station(
        dagster_instance, fast_station_api(registry), LocalStoreResource(root=str(tmp_path / "store")), "ST-0001"
    )
    assert result.success
    rows = result.asset_value("uploaded_media")
    assert not rows.reason.fillna("").str.startswith("not_media: JSON").any()
    store = LocalDirObjectStore(tmp_path / "store")
    stored = Counter()
    for obj in media_objects(store):
        stored[(obj.key.rsplit("/", 1)[1].split("_", 1)[0], sha256(store.get_bytes(obj.key)))] += 1
    expected = Counter(
        {
            (normalize_id_card(m.id_card_no), m.sha256): 1
            for m in sim.expected_media("ST-0001")
            if m.picked_up and m.outcome == "ok"
        }
    )
    assert stored == expected  # every file, by its bytes, once
    assert any("/files/" in m.canonical_url for m in sim.expected_media("ST-0001") if m.picked_up)
    assert state.logins > 5
