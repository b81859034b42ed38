"""`pv-media gallery` as people run it, in its own process on a free port, and a raw HTTP client for it.

The security tests talk to it over real sockets: concurrent logins, streamed bodies, forged Host and
X-Forwarded-For headers, connections from other loopback addresses (127.0.0.2 is loopback too on
Linux), and the server's own memory read from /proc.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
PV_MEDIA = Path(sys.executable).parent / "pv-media"
GALLERY_ENV = (
    "PV_GALLERY_PASSWORD",
    "PV_GALLERY_TRUSTED_USER_HEADER",
    "PV_GALLERY_SESSION_SECRET",
    "PV_GALLERY_PUBLIC_URL",
    "PV_GALLERY_TRUSTED_PROXIES",
    "PV_GALLERY_SECURE_COOKIE",
    "MINIO_ENDPOINT",
    "FORWARDED_ALLOW_IPS",
)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    cookies: dict[str, str]
    body: bytes


def read_answer(sock: socket.socket, timeout: float = 30.0) -> Answer:
    """One HTTP/1.1 answer from the socket (Content-Length or chunked body, or until the peer closes)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise ConnectionError(f"connection closed before an answer: {data[:200]!r}")
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers, cookies = {}, {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
        if name.strip().lower() == "set-cookie":
            key, _, cookie_value = value.strip().split(";", 1)[0].partition("=")
            cookies[key] = cookie_value
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(rest) < length:
            piece = sock.recv(65536)
            if not piece:
                break
            rest += piece
        body = rest[:length]
    elif headers.get("transfer-encoding") == "chunked":
        while not rest.endswith(b"0\r\n\r\n"):
            piece = sock.recv(65536)
            if not piece:
                break
            rest += piece
        body, position = b"", 0
        while True:
            size_end = rest.index(b"\r\n", position)
            size = int(rest[position:size_end], 16)
            if size == 0:
                break
            body += rest[size_end + 2 : size_end + 2 + size]
            position = size_end + 4 + size
    else:
        body = rest
    return Answer(status, headers, cookies, body)


def request_bytes(method: str, path: str, host: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body and not any(n.lower() in ("content-length", "transfer-encoding") for n in headers or {}):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Gallery:
    """`pv-media gallery --port N` over a local store, with the environment a test gives it."""

    def __init__(self, store_root: Path, env: dict[str, str], log: Path):
        self.store_root, self.env, self.log = store_root, env, log
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Gallery:
        env = {k: v for k, v in os.environ.items() if k not in GALLERY_ENV}
        env.update(PV_LOCAL_STORE=str(self.store_root), **self.env)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(PV_MEDIA), "gallery", "--port", str(self.port)], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while True:  # until it accepts connections (or has exited)
            if self.process.poll() is not None:
                raise RuntimeError(f"the gallery exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the gallery did not start listening within 60 s"
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Gallery:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def peak_rss_mib(self) -> float:
        """The server's peak resident memory so far (VmHWM)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def connect(self, source: str = "127.0.0.1") -> socket.socket:
        """A connection from `source` (any 127.x.y.z address is this machine's loopback)."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=30, source_address=(source, 0))

    def ask(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        source: str = "127.0.0.1",
        host: str | None = None,
    ) -> Answer:
        with self.connect(source) as sock:
            sock.sendall(request_bytes(method, path, host or self.host, headers, body))
            return read_answer(sock)

    def login(self, password: str, source: str = "127.0.0.1", headers: dict[str, str] | None = None) -> Answer:
        body = urlencode({"password": password, "next": "/"}).encode()
        form = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.ask("POST", "/login", form, body, source)
