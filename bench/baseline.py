"""The seed's loop, written plainly with the same libraries: one URL at a time - GET, write a
temporary file, upload, delete. It keeps one HTTP session (keep-alive), which makes it a
stronger baseline than a fresh connection per request."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import requests
from minio import Minio


def v1_bearer(base_url: str, account: str, password: str, session: requests.Session | None = None) -> dict[str, str]:
    """Log in to a v1 station plainly, as the seed does; the Authorization header to send."""
    login = (session or requests).post(
        f"{base_url}/api/v1/auth/login", json={"account": account, "password": password}, timeout=30
    )
    return {"Authorization": f"Bearer {login.json()['data']['token']}"}


def seed_loop(
    base_url: str, account: str, password: str, items: list[tuple[str, str]], client: Minio, bucket: str, staging: Path
) -> int:
    """Collect (url, key) items one by one; returns the bytes stored."""
    session = requests.Session()
    auth = v1_bearer(base_url, account, password, session)
    stored = 0
    for url, key in items:
        headers = auth if url.startswith(base_url) else {}
        response = session.get(url, headers=headers, timeout=30)
        response.raise_for_status()
        handle, name = tempfile.mkstemp(dir=staging)
        with os.fdopen(handle, "wb") as out:
            out.write(response.content)
        client.fput_object(bucket, key, name)
        os.remove(name)
        stored += len(response.content)
    return stored


def bare_streaming_copy(url: str, headers: dict[str, str], client: Minio, bucket: str, key: str, staging: Path) -> int:
    """The least a streaming copy does: stream to a file in chunks, upload it from the file, delete it."""
    handle, name = tempfile.mkstemp(dir=staging)
    size = 0
    with requests.get(url, headers=headers, stream=True, timeout=60) as response, os.fdopen(handle, "wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(256 * 1024):
            out.write(chunk)
            size += len(chunk)
    client.fput_object(bucket, key, name, part_size=5 * 1024 * 1024, num_parallel_uploads=1)
    os.remove(name)
    return size
