"""The gallery under attack over real sockets (issue 21, points 1-6): `pv-media gallery` in its own process.

Logins sent at once, X-Forwarded-For chosen by the client, guessing from many addresses, a streamed
1 GiB body, cookies kept after logout and across a restart with a new password, foreign Host names,
Range values of 5,000 digits.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest

from pv_gallery.config import MIN_PASSWORD_LENGTH
from pv_gallery.throttle import LoginThrottle, Reservation
from resources.object_store import LocalDirObjectStore
from tests.gallery_fixtures import build_gallery_data
from tests.gallery_server import GALLERY_ENV, PV_MEDIA, ROOT, Gallery, read_answer, request_bytes

pytestmark = pytest.mark.integration  # the gallery under uvicorn over real sockets (tests/tiers.py)

PASSWORD = "gallery-security-test-pw-7781"  # noqa: S105 - a throwaway server on loopback
SECRET = "gallery-security-test-session-secret-0123456789"  # noqa: S105
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MIB = 1 << 20


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    root = tmp_path_factory.mktemp("gallery-security-store")
    return root, build_gallery_data(LocalDirObjectStore(root))


def gallery(stored, tmp_path: Path, **env: str | None) -> Gallery:
    settings = {"PV_GALLERY_PASSWORD": PASSWORD} | env
    return Gallery(stored[0], {k: v for k, v in settings.items() if v is not None}, tmp_path / "gallery.log")


def session_cookie(answer) -> str:
    assert answer.status == 303, answer
    return f"pv_gallery_session={answer.cookies['pv_gallery_session']}"


# --- 1. the failed-login limit holds under concurrency ------------------------------------------------


def test_forty_logins_sent_at_once_get_exactly_the_limits_worth_of_tries(stored, tmp_path):
    with gallery(stored, tmp_path) as g:
        connections = []
        for n in range(40):
            body = urlencode({"password": PASSWORD if n == 39 else f"wrong-guess-{n:02d}", "next": "/"}).encode()
            sock = g.connect()
            # Every request but the last byte of its body: each is under way, none decided yet.
            head = request_bytes("POST", "/login", g.host, {**FORM, "Content-Length": str(len(body))})
            sock.sendall(head + body[:-1])
            connections.append((sock, body[-1:]))
        # One more request answered means the server has taken up the 40 before it (its event loop runs
        # in order): a limit checked before the body is awaited and counted after it has passed them all.
        assert g.ask("GET", "/login").status == 200
        for sock, last in connections:
            with contextlib.suppress(OSError):  # an attempt refused at once may already be answered
                sock.sendall(last)
        statuses = [read_answer(sock).status for sock, _last in connections]
        for sock, _last in connections:
            sock.close()
        # The right password, from this address, after the limit: refused like any other try.
        assert g.login(PASSWORD).status == 429
        # Another address is not locked out by this one's guesses.
        assert g.login(PASSWORD, source="127.0.0.2").status == 303
    assert statuses.count(401) + statuses.count(303) == 5, statuses  # the limit, however the 40 interleave
    assert statuses.count(429) == 35 and statuses.count(303) <= 1, statuses


# --- 2. the limit is keyed on an address the client cannot choose --------------------------------------


def test_x_forwarded_for_from_a_client_does_not_change_its_address(stored, tmp_path):
    with gallery(stored, tmp_path) as g:  # no proxy configured: the TCP peer is the client
        statuses = [g.login(f"guess-{n}", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status for n in range(60)]
        real_user = g.login(PASSWORD, source="127.0.0.2")
    assert statuses == [401] * 5 + [429] * 55
    assert real_user.status == 303  # the guesses locked out their own address only


def test_only_a_configured_proxy_says_who_the_client_is(stored, tmp_path):
    with gallery(stored, tmp_path, PV_GALLERY_TRUSTED_PROXIES="127.0.0.1") as g:
        proxied = [g.login(f"guess-{n}", headers={"X-Forwarded-For": "203.0.113.7"}).status for n in range(7)]
        # Another client behind the same proxy is another address.
        other = g.login(PASSWORD, headers={"X-Forwarded-For": "203.0.113.8"})
        # A client that is not the proxy cannot choose its address.
        direct = [
            g.login(f"guess-{n}", source="127.0.0.3", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status
            for n in range(6)
        ]
    assert proxied == [401] * 5 + [429] * 2
    assert other.status == 303
    assert direct == [401] * 5 + [429]


def test_guessing_from_many_addresses_cannot_lock_out_a_browser_that_signed_in_before(stored, tmp_path):
    with gallery(stored, tmp_path, PV_GALLERY_TRUSTED_PROXIES="127.0.0.1") as g:
        earlier = g.login(PASSWORD)  # the real user's browser, some day before
        known = {"Cookie": f"pv_gallery_browser={earlier.cookies['pv_gallery_browser']}"}
        # 60 addresses behind the proxy, one guess each: the account-wide limit stops them at 50.
        guesses = [g.login(f"guess-{n}", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status for n in range(60)]
        new_browser = g.login(PASSWORD, headers={"X-Forwarded-For": "203.0.113.9"})
        known_browser = g.login(PASSWORD, headers={"X-Forwarded-For": "203.0.113.9", **known})
        forged = {"Cookie": "pv_gallery_browser=0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef"}
        forged_browser = g.login(PASSWORD, headers={"X-Forwarded-For": "203.0.113.10", **forged})
    assert guesses == [401] * 50 + [429] * 10
    assert new_browser.status == 429 and 1 <= int(new_browser.headers["retry-after"]) <= 301
    assert known_browser.status == 303  # nobody else's guessing locks out a browser that signed in before
    assert forged_browser.status == 429  # a made-up cookie is no way around the limit


def test_a_lock_out_ends_with_the_window_and_a_right_password_gives_its_attempt_back():
    now = [1000.0]
    throttle = LoginThrottle(per_client=2, per_account=3, window_s=300, clock=lambda: now[0])
    for address in ("a", "b", "c"):
        assert isinstance(throttle.reserve(address, None), Reservation)  # three wrong guesses, three addresses
    assert throttle.reserve("d", None) == 301  # the account's limit: a new browser waits out the window
    known = throttle.reserve("d", "browser-1")
    assert isinstance(known, Reservation)  # a known browser counts against itself only
    throttle.succeeded(known)
    now[0] += 301
    assert isinstance(throttle.reserve("d", None), Reservation)  # the window has passed: not locked for long


# --- 3. bodies are refused over a small cap while they stream --------------------------------------------


def stream(g: Gallery, head: bytes, total: int, *, chunked: bool) -> tuple[int, int]:
    """Send a request head, then up to `total` body bytes a MiB at a time until the answer comes; (status,
    body bytes sent)."""
    sock = g.connect()
    sock.sendall(head)
    block, sent = bytes(MIB), 0
    with sock:
        while sent < total:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable:
                break
            if writable:
                piece = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
                try:
                    sock.sendall(piece)
                except OSError:
                    break
                sent += len(block)
        if sent >= total and chunked:
            with contextlib.suppress(OSError):
                sock.sendall(b"0\r\n\r\n")
        return read_answer(sock, timeout=120).status, sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_streamed_1_gib_login_body_is_refused_early_and_memory_stays_flat(stored, tmp_path, chunked):
    with gallery(stored, tmp_path) as g:
        assert g.ask("GET", "/login").status == 200
        before = g.peak_rss_mib()
        framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(1 << 30)}
        status, sent = stream(g, request_bytes("POST", "/login", g.host, {**FORM, **framing}), 1 << 30, chunked=chunked)
        grown = g.peak_rss_mib() - before
        still_serving = g.ask("GET", "/login").status
    assert status == 413
    assert sent < 64 * MIB, sent  # refused while the body streamed, not after 1 GiB
    assert grown < 16, f"the server grew by {grown:.0f} MiB"
    assert still_serving == 200


def test_every_route_refuses_an_announced_oversized_body(stored, tmp_path):
    huge = {"Content-Length": str(1 << 30)}
    with gallery(stored, tmp_path) as g:
        statuses = {path: g.ask(method, path, huge).status for method, path in (("GET", "/"), ("POST", "/logout"))}
    assert statuses == {"/": 413, "/logout": 413}


# --- 4. sessions can be ended ------------------------------------------------------------------------


def test_logout_ends_the_session_for_every_copy_of_its_cookie(stored, tmp_path):
    with gallery(stored, tmp_path, PV_GALLERY_SESSION_SECRET=SECRET) as g:
        cookie = {"Cookie": session_cookie(g.login(PASSWORD))}
        before = g.ask("GET", "/", cookie).status
        logout = g.ask("POST", "/logout", cookie).status
        after = g.ask("GET", "/", cookie)  # the copy an attacker took before the logout
    assert (before, logout) == (200, 303)
    assert after.status == 303 and after.headers["location"].startswith("/login")


def test_a_restart_with_a_new_password_ends_every_session(stored, tmp_path):
    with gallery(stored, tmp_path, PV_GALLERY_SESSION_SECRET=SECRET) as g:
        cookie = {"Cookie": session_cookie(g.login(PASSWORD))}
        assert g.ask("GET", "/", cookie).status == 200
    new_password = "a-new-gallery-password-5512"
    with gallery(stored, tmp_path, PV_GALLERY_SESSION_SECRET=SECRET, PV_GALLERY_PASSWORD=new_password) as g:
        old_cookie = g.ask("GET", "/", cookie).status
        old_password = g.login(PASSWORD).status
        fresh = g.login(new_password).status
    assert (old_cookie, old_password, fresh) == (303, 401, 303)


def test_a_password_shorter_than_the_minimum_is_refused_at_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in GALLERY_ENV}
    env.update(PV_LOCAL_STORE=str(tmp_path), PV_GALLERY_PASSWORD="x" * 11)
    done = subprocess.run(
        [str(PV_MEDIA), "gallery", "--port", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert f"needs at least {MIN_PASSWORD_LENGTH}" in done.stderr and "11 characters" in done.stderr
    assert "x" * 11 not in done.stderr


# --- 5. the Host header is checked --------------------------------------------------------------------


def test_requests_for_other_host_names_are_refused_behind_the_sign_on_proxy(stored, tmp_path):
    proxy_mode = {
        "PV_GALLERY_PASSWORD": None,
        "PV_GALLERY_TRUSTED_USER_HEADER": "X-Remote-User",
        "PV_GALLERY_PUBLIC_URL": "https://gallery.example.cn/pv",
    }
    user = {"X-Remote-User": "zhang.wei"}
    item = next(r for r in stored[1].rows if r["thumb_key"])["item_id"]
    with gallery(stored, tmp_path, **proxy_mode) as g:
        answers = {
            host: tuple(g.ask("GET", path, user, host=host).status for path in ("/", f"/media/{item}/thumb"))
            for host in (
                "attacker.example",
                f"attacker.example:{g.port}",
                "gallery.example.cn.attacker.example",
                "gallery.example.cn",
                "GALLERY.example.cn:443",
                g.host,
                f"localhost:{g.port}",
                f"[::1]:{g.port}",
            )
        }
    refused = {host for host, statuses in answers.items() if statuses == (400, 400)}
    served = {host for host, statuses in answers.items() if statuses == (200, 200)}
    assert refused == {"attacker.example", f"attacker.example:{g.port}", "gallery.example.cn.attacker.example"}
    assert served == set(answers) - refused, answers


def test_listening_on_every_address_needs_the_public_address(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in GALLERY_ENV}
    env.update(PV_LOCAL_STORE=str(tmp_path), PV_GALLERY_PASSWORD=PASSWORD)
    done = subprocess.run(
        [str(PV_MEDIA), "gallery", "--host", "0.0.0.0", "--port", "1"],  # noqa: S104 - what is refused
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "PV_GALLERY_PUBLIC_URL" in done.stderr


# --- 6. a Range of 5,000 digits -------------------------------------------------------------------------


def test_a_range_of_5000_digits_is_416_not_a_traceback(stored, tmp_path):
    video = next(r for r in stored[1].rows if r["media_kind"] == "video" and r["status"] == "stored")
    size = len(stored[1].originals[video["item_id"]])
    huge = "9" * 5000
    with gallery(stored, tmp_path) as g:
        cookie = session_cookie(g.login(PASSWORD))

        def ranged(value: str):
            return g.ask("GET", f"/media/{video['item_id']}/original", {"Cookie": cookie, "Range": value})

        start, end, suffix = ranged(f"bytes={huge}-"), ranged(f"bytes=0-{huge}"), ranged(f"bytes=-{huge}")
    assert start.status == 416 and start.headers["content-range"] == f"bytes */{size}"
    assert end.status == 206 and end.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
    assert suffix.status == 206 and len(suffix.body) == size
    assert "Traceback" not in (tmp_path / "gallery.log").read_text()


def test_the_harness_reaches_a_second_loopback_address():
    """The tests above use 127.0.0.2 and 127.0.0.3 as other clients: loopback on Linux."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), source_address=("127.0.0.2", 0)) as client:
            peer, _ = server.accept()
            with peer:
                assert peer.getpeername()[0] == "127.0.0.2" and client
