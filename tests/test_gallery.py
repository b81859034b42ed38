"""The gallery web app through Starlette's TestClient: login, headers, pages, 404s, Range, and
that no object key and no raw ID number ever reaches a page, a URL or a header.

The data is real: a contract-conformant index with decodable previews and an MP4 (gallery_fixtures),
in the local directory store and in moto's S3 server over HTTP.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pv_assets.cli.main import main as cli_main
from pv_gallery import gallery_station_url
from pv_gallery.app import create_app
from pv_gallery.config import GalleryConfig, GalleryConfigError
from pv_gallery.index import INDEX_KEY
from pv_gallery.installations import installation_key
from resources.object_store import LocalDirObjectStore
from tests.gallery_fixtures import STATIONS, build_gallery_data, write_index

PASSWORD = "correct horse battery staple"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build_gallery_data(LocalDirObjectStore(tmp_path_factory.mktemp("gallery-store")))


def make_client(store, **config) -> TestClient:
    settings = {"password": PASSWORD, "session_secret": "test-session-secret-0123456789"} | config
    # localhost: a Host name the gallery answers to without PV_GALLERY_PUBLIC_URL
    return TestClient(create_app(store, GalleryConfig(**settings)), base_url="http://localhost", follow_redirects=False)


def installation_url(client: TestClient, station_id: str, record_id: str) -> str:
    """The installation page's URL: by the opaque key the app derives from its secret, never the record id."""
    key = installation_key(client.app.state.config.key("installation-ids"), station_id, record_id)
    return f"/station/{station_id}/installation/{key}"


def login(client: TestClient) -> TestClient:
    answer = client.post("/login", data={"password": PASSWORD, "next": "/"})
    assert answer.status_code == 303, answer.text
    return client


@pytest.fixture
def client(data) -> TestClient:
    return login(make_client(data.store))


class Links(HTMLParser):
    """Every href/src/poster/action and data-* URL of a page."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name in ("href", "src", "poster", "action") or name in ("data-medium", "data-full")):
                self.urls.append(value)
                if tag == "img" and name == "src":
                    self.images.append(value)


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def station_rows(html: str, table: str) -> list[list[str]]:
    """The text of each cell of each body row of the overview table with that id."""
    body = re.search(rf'<table class="figures" id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", " ", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows.append([" ".join(c.split()) for c in cells])
    return rows


# --- access -----------------------------------------------------------------------------------


def test_every_page_and_media_needs_a_login(data):
    anonymous = make_client(data.store)
    answer = anonymous.get("/station/GAL-01?kind=photo")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fstation%2FGAL-01%3Fkind%3Dphoto"
    thumb = next(r for r in data.rows if r["thumb_key"])
    assert anonymous.get(f"/media/{thumb['item_id']}/thumb").status_code == 401
    assert anonymous.get(installation_url(anonymous, "GAL-01", "R001")).status_code == 303
    assert anonymous.get("/static/gallery.js").status_code == 200  # no data in static files


def test_login_sets_a_signed_httponly_samesite_cookie_and_goes_back_to_the_page(data):
    anonymous = make_client(data.store)
    answer = anonymous.post("/login", data={"password": PASSWORD, "next": "/station/GAL-02"})
    assert answer.status_code == 303 and answer.headers["location"] == "/station/GAL-02"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert PASSWORD.split()[0] not in cookie
    assert anonymous.get("/station/GAL-02").status_code == 200
    # A forged cookie (not signed with the session secret) is not a login.
    forged = make_client(data.store, session_secret="another-secret-entirely-000000")
    forged.cookies.set("pv_gallery_session", anonymous.cookies.get("pv_gallery_session"))
    assert forged.get("/").status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(data, target):
    answer = make_client(data.store).post("/login", data={"password": PASSWORD, "next": target})
    assert answer.headers["location"] == "/"


def test_failed_logins_are_rate_limited(data):
    anonymous = make_client(data.store, max_failed_logins=3)
    for _ in range(3):
        answer = anonymous.post("/login", data={"password": "guess"})
        assert answer.status_code == 401 and "密码不正确" in answer.text
    blocked = anonymous.post("/login", data={"password": PASSWORD})
    assert blocked.status_code == 429, "the right password is refused too while the client is locked out"
    assert 1 <= int(blocked.headers["retry-after"]) <= 301
    assert anonymous.get("/").status_code == 303


def test_a_body_that_is_no_login_form_is_400_and_costs_no_attempt(data):
    anonymous = make_client(data.store, max_failed_logins=1)
    form = {"content-type": "application/x-www-form-urlencoded"}
    many_fields = "&".join(f"f{n}=1" for n in range(20))
    for _ in range(3):
        assert anonymous.post("/login", content=many_fields, headers=form).status_code == 400
    assert anonymous.post("/login", data={"password": PASSWORD}).status_code == 303  # no attempt was used up


def test_logout_ends_the_session(client):
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/").status_code == 303


def test_trusted_proxy_header_mode(data):
    proxied = make_client(data.store, password=None, trusted_user_header="x-remote-user")
    assert proxied.get("/").status_code == 401
    assert proxied.get("/", headers={"X-Remote-User": "zhang.wei"}).status_code == 200
    assert proxied.get("/login").status_code == 404  # no password login in this mode


def test_proxy_header_mode_refuses_to_listen_beyond_loopback(monkeypatch, capsys):
    monkeypatch.delenv("PV_GALLERY_PASSWORD", raising=False)
    monkeypatch.setenv("PV_GALLERY_TRUSTED_USER_HEADER", "X-Remote-User")
    assert cli_main(["gallery", "--host", "0.0.0.0", "--port", "1"]) == 2  # noqa: S104 - what is refused
    assert "loopback" in capsys.readouterr().err


def test_the_gallery_refuses_to_start_without_a_login(monkeypatch, capsys):
    for name in ("PV_GALLERY_PASSWORD", "PV_GALLERY_TRUSTED_USER_HEADER"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(GalleryConfigError, match="PV_GALLERY_PASSWORD"):
        GalleryConfig.from_env()
    assert cli_main(["gallery", "--port", "1"]) == 2
    assert "PV_GALLERY_PASSWORD" in capsys.readouterr().err
    assert PASSWORD not in repr(GalleryConfig(password=PASSWORD))


# --- headers ----------------------------------------------------------------------------------


def test_security_headers_on_pages_media_static_and_errors(client, data):
    thumb = next(r for r in data.rows if r["thumb_key"])
    for url in ("/", "/login", "/static/gallery.css", f"/media/{thumb['item_id']}/thumb", "/media/00/thumb", "/nope"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, url
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    page = client.get(installation_url(client, "GAL-01", "R001"))
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and '<script src="/static/gallery.js"' in page.text
    assert " style=" not in page.text and "onclick" not in page.text


# --- pages ------------------------------------------------------------------------------------


def test_overview_shows_the_figures_per_region_and_station_sorted_by_the_coverage_gap(client):
    html = client.get("/?sort=gap").text
    assert "缺照片" in html and "已提货户数" in html and "Asia/Shanghai (UTC+08:00)" in html
    stations = station_rows(html, "stations")
    # station, region, state, last attempt, last success, picked up, completeness, missing types, gap, failed
    # (an index without photo types and without a health table: completeness and state unknown)
    assert stations[0][:10] == ["阳光一号分布式光伏 GAL-01", "南京区域公司", "状态未知", "从未",
                                "2026-11-25 16:05", "5", "-", "", "2", "1 失败原因 链接失效 1"]  # fmt: skip
    assert stations[1][:9] == ["屋顶二号分布式光伏 GAL-02", "RC-510100", "状态未知", "从未", stations[1][4], "3", "-",
                               "", "1"]  # fmt: skip
    ascending = station_rows(client.get("/?sort=gap&order=asc").text, "stations")
    assert [row[1] for row in ascending] == ["RC-510100", "南京区域公司"]  # no name in the index: the code
    regions = station_rows(html, "regions")
    assert regions[0][:6] == ["南京区域公司", "1", "5", "-", "", "2"]
    only = station_rows(client.get("/?region=RC-510100").text, "stations")
    assert [row[1] for row in only] == ["RC-510100"]


def test_station_page_cards_filters_and_search(client, data):
    html = client.get("/station/GAL-01").text
    assert html.count('class="card"') == 5
    assert "320102********0011" in html and "项目名称" in html
    assert 'id="matching">5 / 5' in html
    records = lambda page: re.findall(r'<span class="record">([^<]+)</span>', page)  # noqa: E731
    assert records(client.get("/station/GAL-01?kind=none").text) == ["R003", "R004"]  # the coverage gap
    assert records(client.get("/station/GAL-01?kind=video").text) == ["R001", "R004"]
    assert records(client.get("/station/GAL-01?q=0022").text) == ["R002"]  # last 4 of the ID number
    assert records(client.get("/station/GAL-01?q=003x").text) == ["R003"]  # a check character X, typed lower case
    assert records(client.get("/station/GAL-01?q=r00").text) == ["R001", "R002", "R003", "R004", "R005"]
    assert records(client.get("/station/GAL-01?status=picked_up&kind=photo").text) == ["R001", "R002", "R005"]
    assert "没有符合条件的安装" in client.get("/station/GAL-01?q=9999").text
    other = client.get("/station/GAL-02").text
    assert '<option value="partly_picked_up" >部分提货</option>' in other
    assert records(client.get("/station/GAL-02?status=partly_picked_up").text) == ["R103"]
    assert records(client.get("/station/GAL-02?status=picked_up").text) == ["R101", "R102"]
    # Each card's thumbnail is the first photo's thumb, or the video's poster.
    images = links(html).images
    r001_first = data.items("GAL-01", "R001", "photo")[0]["item_id"]
    r004_video = data.items("GAL-01", "R004", "video")[0]["item_id"]
    assert f"/media/{r001_first}/thumb" in images and f"/media/{r004_video}/poster" in images


def test_what_a_user_types_comes_back_escaped(client, data):
    attack = '"><script>alert(1)</script>'
    page = client.get("/station/GAL-01", params={"q": attack, "status": attack}).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    login_page = make_client(data.store).get("/login", params={"next": '/"><img src=x onerror=alert(1)>'}).text
    assert "onerror=alert(1)>" not in login_page


def test_station_page_is_paged(client, data, tmp_path):
    store = LocalDirObjectStore(tmp_path)
    rows = [dict(data.rows[0], record_id=f"B{n:04d}", item_id=f"{n:016x}") for n in range(100)]
    write_index(store, rows)
    paged = login(make_client(store))
    first = paged.get("/station/GAL-01").text
    assert first.count('class="card"') == 48 and "1 / 3" in first
    last = paged.get("/station/GAL-01?page=3").text
    assert last.count('class="card"') == 4 and "B0099" in last


def test_installation_page_photos_videos_and_fields(client, data):
    html = client.get(installation_url(client, "GAL-01", "R001")).text
    photos = data.items("GAL-01", "R001", "photo")
    found = links(html)
    assert [f"/media/{p['item_id']}/medium" for p in photos] == [u for u in found.urls if u.endswith("/medium")][1:]
    assert html.count('class="strip-item') == 3 and 'id="viewer-position">1</span> / 3' in html
    video = data.items("GAL-01", "R001", "video")[0]
    assert f'<video controls preload="metadata" src="/media/{video["item_id"]}/original"' in html
    assert "江苏省南京市玄武区1号" in html and "装机容量 (kW)" in html and "320102********0011" in html
    failed = client.get(installation_url(client, "GAL-01", "R002")).text
    assert "HTTP 404 from the CDN" in failed
    # A photo without a preview is shown from its original.
    no_preview = data.items("GAL-01", "R005", "photo")[-1]
    assert (
        f'data-medium="/media/{no_preview["item_id"]}/original"'
        in client.get(installation_url(client, "GAL-01", "R005")).text
    )


def test_english_on_request_and_remembered(client):
    english = client.get("/?lang=en")
    assert "Coverage" not in english.text and "No photo" in english.text and "Picked up" in english.text
    assert "pv_gallery_lang=en" in english.headers["set-cookie"]
    assert "No photo" in client.get("/station/GAL-01").text
    assert "缺照片" in client.get("/?lang=zh").text


def test_unknown_ids_are_404(client, data):
    failed = next(r for r in data.rows if r["status"] == "failed")
    no_media = next(r for r in data.rows if r["media_kind"] is None)
    photo = next(r for r in data.rows if r["thumb_key"])
    for url in (
        "/media/0000000000000000/thumb",
        "/media/not-an-id/medium",
        f"/media/{failed['item_id']}/original",
        f"/media/{no_media['item_id']}/thumb",
        f"/media/{photo['item_id']}/poster",
        f"/media/{photo['item_id']}/object_key",
        f"/media/{photo['item_id']}/../../../etc/passwd",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/station/NOPE").status_code == 404
    assert client.get(installation_url(client, "GAL-01", "R999")).status_code == 404
    assert client.get("/station/GAL-01/installation/R001").status_code == 404  # a record id is not a key


def test_missing_index_says_to_run_the_collection(tmp_path):
    empty = login(make_client(LocalDirObjectStore(tmp_path)))
    answer = empty.get("/")
    assert answer.status_code == 503 and "pv-media collect --all" in answer.text
    assert empty.get("/media/0000000000000000/thumb").status_code == 503


def test_an_unreadable_index_is_a_clear_page_not_a_traceback(tmp_path, data):
    store = LocalDirObjectStore(tmp_path)
    store.put_bytes(INDEX_KEY, b"not parquet at all", "application/octet-stream")
    broken = login(make_client(store))
    answer = broken.get("/")
    assert answer.status_code == 503 and "图库索引无法读取" in answer.text
    write_index(store, [dict(data.rows[0])])
    broken.app.state.index.recheck_s = 0
    assert broken.get("/").status_code == 200


def test_a_new_index_is_picked_up_when_its_etag_changes(tmp_path, data):
    store = LocalDirObjectStore(tmp_path)
    write_index(store, [r for r in data.rows if r["station_id"] == "GAL-01"])
    app_client = login(make_client(store))
    app_client.app.state.index.recheck_s = 0
    assert "GAL-02" not in app_client.get("/").text
    write_index(store, data.rows)
    assert "GAL-02" in app_client.get("/").text


# --- media ------------------------------------------------------------------------------------


def test_previews_stream_with_etag_and_immutable_caching(client, data):
    row = next(r for r in data.rows if r["thumb_key"])
    answer = client.get(f"/media/{row['item_id']}/thumb")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/webp"
    assert sha256(answer.content) == sha256(data.store.get_bytes(row["thumb_key"]))
    assert "immutable" in answer.headers["cache-control"] and "private" in answer.headers["cache-control"]
    again = client.get(f"/media/{row['item_id']}/thumb", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    original = client.get(f"/media/{row['item_id']}/original")
    assert original.headers["content-type"] == "image/jpeg"
    assert sha256(original.content) == sha256(data.served[row["item_id"]])
    assert "content-disposition" not in original.headers  # a file name would carry the key


def video_of(data) -> dict:
    return next(r for r in data.rows if r["media_kind"] == "video" and r["status"] == "stored")


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=100-999", 100, 999), ("bytes=1000-", 1000, None), ("bytes=-500", -500, None), ("bytes=0-0", 0, 0)],
)
def test_video_range_requests_answer_206_with_the_right_bytes(client, data, header, start, end):
    video = video_of(data)
    whole = data.served[video["item_id"]]
    answer = client.get(f"/media/{video['item_id']}/original", headers={"Range": header})
    expected = whole[start : None if end is None else end + 1]
    first = start if start >= 0 else len(whole) + start
    assert answer.status_code == 206
    assert answer.headers["content-range"] == f"bytes {first}-{first + len(expected) - 1}/{len(whole)}"
    assert int(answer.headers["content-length"]) == len(expected)
    assert sha256(answer.content) == sha256(expected)


def test_video_without_range_and_outside_the_file(client, data):
    video = video_of(data)
    whole = data.served[video["item_id"]]
    answer = client.get(f"/media/{video['item_id']}/original")
    assert answer.status_code == 200 and answer.headers["accept-ranges"] == "bytes"
    assert answer.headers["content-type"] == "video/mp4" and sha256(answer.content) == sha256(whole)
    beyond = client.get(f"/media/{video['item_id']}/original", headers={"Range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(whole)}"
    head = client.head(f"/media/{video['item_id']}/original", headers={"Range": "bytes=0-99"})
    assert head.status_code == 206 and head.headers["content-length"] == "100" and head.content == b""
    stale = client.get(
        f"/media/{video['item_id']}/original", headers={"Range": "bytes=0-9", "If-Range": '"another-version"'}
    )
    assert stale.status_code == 200 and len(stale.content) == len(whole)


# --- privacy ----------------------------------------------------------------------------------


def crawl(client: TestClient) -> dict[str, str]:
    """Every page a user can reach from the overview (both languages, filters, sorts), by URL."""
    pages: dict[str, str] = {}
    todo = ["/", "/?lang=en", "/?sort=station&order=asc", "/login"]
    for station_id, _region, _name, records in STATIONS:
        todo += [f"/station/{station_id}?kind={k}" for k in ("photo", "video", "none")]
        todo += [installation_url(client, station_id, r[0]) + "?lang=en" for r in records]
    while todo:
        url = todo.pop()
        if url in pages:
            continue
        answer = client.get(url)
        pages[url] = answer.text + "\n" + "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
        for link in links(answer.text).urls:
            if link.startswith("/") and not link.startswith(("/media/", "/static/", "/logout")):
                todo.append(link)
    return pages


def test_no_object_key_and_no_raw_id_number_in_any_page_url_or_header(client, data):
    pages = crawl(client)
    assert len(pages) >= 15
    secrets = data.secrets()
    assert data.raw_ids and set(data.raw_ids) <= set(secrets)
    for url, page in pages.items():
        for secret in secrets:
            assert secret not in url, url
            assert secret not in page, f"{secret!r} in {url}"
        for link in links(page).urls:
            if link.startswith("/media/"):
                assert re.fullmatch(r"/media/[0-9a-f]{16}/(thumb|medium|poster|original)", link), link
    media = [r for r in data.rows if r["status"] == "stored"]
    for row in media:
        headers = client.get(f"/media/{row['item_id']}/original").headers
        assert not any(secret in value for value in headers.values() for secret in secrets)


def test_id_numbers_inside_record_fields_are_masked(tmp_path, data):
    store = LocalDirObjectStore(tmp_path)
    raw = "11010519491231002X"
    fields = {
        "idCardNo": raw,
        "ownerName": "张三",
        "户主姓名": "李四",  # personal by the shared rule, not by an exact name
        "certificate": "C-7781",
        "address": f"业主 {raw}",  # a descriptive field, an ID number in its value
        "note": "not on the allow-list",
        "meterNumber": 110105194912310021,  # ID-shaped, a number, in a field not named as personal
        "photoUrl": "http://x/a.jpg",
        "latitude": 32.059999999999995,
    }
    leaky = dict(data.rows[0], record_fields=json.dumps(fields, ensure_ascii=False))
    write_index(store, [leaky])
    reader = login(make_client(store))
    html = reader.get(installation_url(reader, "GAL-01", leaky["record_id"])).text
    assert raw not in html and "110105********002X" in html
    assert "110105194912310021" not in html and "110105********0021" in html
    # Coordinates are not mistaken for ID numbers, and a household's are shown to 0.01 degree (a village).
    assert "32.059999999999995" not in html and "32.06" in html
    assert "张三" not in html and "http://x/a.jpg" not in html
    assert "李四" not in html and "C-7781" not in html
    assert "not on the allow-list" not in html  # shown is what is allowed, not what is not known to be personal


# --- links from Dagster -----------------------------------------------------------------------


def test_gallery_station_url_reads_the_public_address_at_call_time(monkeypatch):
    monkeypatch.delenv("PV_GALLERY_PUBLIC_URL", raising=False)
    assert gallery_station_url("GAL-01") is None
    monkeypatch.setenv("PV_GALLERY_PUBLIC_URL", "https://gallery.example.cn/pv/")
    assert gallery_station_url("GAL-01") == "https://gallery.example.cn/pv/station/GAL-01"
    assert os.environ["PV_GALLERY_PUBLIC_URL"]


# --- over S3 (moto, HTTP) ----------------------------------------------------------------------


def test_the_gallery_over_s3_serves_previews_and_ranges(s3_store):
    data = build_gallery_data(s3_store)
    client = login(make_client(s3_store))
    assert "阳光一号分布式光伏" in client.get("/").text
    thumb = next(r for r in data.rows if r["thumb_key"])
    answer = client.get(f"/media/{thumb['item_id']}/thumb")
    assert answer.status_code == 200 and answer.headers["etag"].strip('"')
    assert sha256(answer.content) == sha256(s3_store.get_bytes(thumb["thumb_key"]))
    video = video_of(data)
    ranged = client.get(f"/media/{video['item_id']}/original", headers={"Range": "bytes=17-4096"})
    assert ranged.status_code == 206 and sha256(ranged.content) == sha256(data.served[video["item_id"]][17:4097])
    assert s3_store.stat(INDEX_KEY).etag


# --- the store's new methods, both implementations --------------------------------------------


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def any_store(request, tmp_path):
    if request.param == "local":
        return LocalDirObjectStore(tmp_path / "store")
    return request.getfixturevalue("s3_store")


def test_open_range_streams_exact_bytes_across_chunks(any_store):
    blob = os.urandom(700 * 1024)  # crosses the 256 KiB chunks
    key = "RC-1/ST-1/110105194912310021_0a1b2c3d.mp4"
    any_store.put_bytes(key, blob, "video/mp4")
    for start, end in ((0, len(blob) - 1), (1, 262_144), (300_000, 700_000), (len(blob) - 1, len(blob) - 1)):
        chunks = list(any_store.open_range(key, start, end))
        assert sha256(b"".join(chunks)) == sha256(blob[start : end + 1])
        assert all(len(c) <= 256 * 1024 for c in chunks)
    with pytest.raises(KeyError):
        list(any_store.open_range("RC-1/ST-1/missing.mp4", 0, 10))


def test_stat_gives_an_etag_that_changes_with_the_bytes(any_store):
    key = "_pv-media/gallery/index.parquet"
    any_store.put_bytes(key, b"version one", "application/octet-stream")
    first = any_store.stat(key)
    any_store.put_bytes(key, b"version two!", "application/octet-stream")
    second = any_store.stat(key)
    assert first.etag and second.etag and first.etag != second.etag
    assert second.size == len(b"version two!")
    assert any_store.stat("_pv-media/gallery/none.parquet") is None


def test_package_data_holds_templates_and_static_files():
    root = Path(__file__).resolve().parents[1] / "pv_gallery"
    assert (root / "templates" / "base.html").is_file() and (root / "static" / "gallery.js").is_file()


def test_an_index_whose_item_ids_break_the_contract_is_unreadable_not_a_crash():
    import pyarrow as pa

    from pv_gallery.index import IndexUnreadable, ItemLookup

    assert ItemLookup(pa.chunked_array([["00000000000000ff", "0000000000000001"]])).find("00000000000000ff") == 0
    with pytest.raises(IndexUnreadable, match="item_id is not 16 hex digits"):
        ItemLookup(pa.chunked_array([["abc", "zé"]]))
