"""The hints of `pv-media dialect check`, pure."""

from __future__ import annotations

from pv_assets.collection.dialect_hints import envelope_hint, media_verdict
from pv_model.dialect import load_interface
from resources.net_guard import MediaUrlPolicy

POLICY = MediaUrlPolicy.for_station("http://10.0.0.5:8000", ["10.0.0.9:9000"])


def test_each_url_is_resolved_and_judged_as_the_collection_would():
    assert media_verdict("files/a.jpg", "http://10.0.0.5:8000", POLICY) == (
        "files/a.jpg -> http://10.0.0.5:8000/files/a.jpg"
    )
    assert media_verdict("http://10.0.0.9:9000/b.jpg", "http://10.0.0.5:8000", POLICY) == "http://10.0.0.9:9000/b.jpg"
    refused = media_verdict("http://10.0.0.7/c.jpg", "http://10.0.0.5:8000", POLICY)
    assert refused.startswith("http://10.0.0.7/c.jpg  REFUSED: host 10.0.0.7")
    assert refused.endswith("(the vendor's CDN? add its host to media_hosts in the registry)")
    assert "REFUSED: invalid URL: scheme 'ftp' is not http or https" in media_verdict("ftp://x/y", "http://a", POLICY)


def test_a_bare_item_that_resolves_to_the_stations_root_is_flagged():
    shown = media_verdict("f001", "http://10.0.0.5:8000", POLICY)
    assert shown.startswith("f001 -> http://10.0.0.5:8000/f001  WARNING: a bare item with no path or extension")
    assert "WARNING" not in media_verdict("IMG_1.jpg", "http://10.0.0.5:8000", POLICY)


def test_a_success_word_where_codes_were_declared_gets_the_envelope_fix():
    hint = envelope_hint(load_interface("default"), "OK")
    assert hint == (
        "the station answered 'OK' at 'code', which reads as success: add it to envelope.success (now ['0']), or, "
        "when that field is a status rather than a code, write style: field, success_field: code, success_value: OK"
    )
    assert envelope_hint(load_interface("default"), "1001") is None
    assert envelope_hint(load_interface("default"), None) is None
