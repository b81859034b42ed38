"""`pv-media gallery`: the gallery app on uvicorn, over the store the collection writes to."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from pv_gallery.config import WILDCARD_HOSTS, GalleryConfig, GalleryConfigError
from pv_gallery.index import INDEX_KEY
from resources.object_store import LocalDirObjectStore, ObjectStore, ObjectStoreError, store_from_settings
from resources.settings import env_name

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
NO_INDEX = "no gallery index yet in {store}: run the collection first: pv-media collect --all"
DEMO_STORE = Path("var/demo/object-store")  # where `pv-media demo` (its default --dir) keeps its store
MAX_CONNECTIONS = 256  # beyond this uvicorn answers 503 rather than queueing without bound


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listening(host: str, config: GalleryConfig) -> None:
    """Where the gallery may listen, given how people sign in and which Host names it answers to."""
    if config.trusted_user_header and not is_loopback(host):
        # Anyone who reaches the port could send the header: only the proxy on this machine may.
        raise GalleryConfigError(
            f"with PV_GALLERY_TRUSTED_USER_HEADER the gallery must listen on loopback behind the proxy, not {host}"
        )
    if host in WILDCARD_HOSTS and not config.allowed_hosts:
        raise GalleryConfigError(
            f"listening on every address ({host}) needs {env_name('gallery_public_url')}, the address people use "
            "(e.g. https://gallery.example.cn), so that the gallery can refuse requests for other Host names"
        )


def uvicorn_config(app, host: str, port: int):
    """uvicorn as the gallery runs it: no forwarded header trusted by uvicorn itself (the app trusts only
    PV_GALLERY_TRUSTED_PROXIES), a bounded number of connections, no server header."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        forwarded_allow_ips=[],
        limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=5,
    )


def demo_store(environ: Mapping[str, str], cwd: Path) -> LocalDirObjectStore | None:
    """The demo's store (`pv-media demo` writes var/demo/object-store) when no store is configured and the
    configured default has no index: `make demo` then `pv-media gallery` shows the demo's data."""
    if environ.get("MINIO_ENDPOINT") or environ.get("PV_LOCAL_STORE"):
        return None
    root = cwd / DEMO_STORE
    return LocalDirObjectStore(root) if (root / INDEX_KEY).is_file() else None


def run_gallery(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, store: ObjectStore | None = None) -> int:
    """Serve until interrupted; exit code 2 when the gallery cannot start as configured."""
    import uvicorn

    from pv_gallery.app import create_app

    try:
        config = GalleryConfig.from_env(bind_host=host)
        check_listening(host, config)
    except GalleryConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    chosen = store
    store = store or store_from_settings()
    try:
        fallback = demo_store(os.environ, Path.cwd()) if chosen is None and store.stat(INDEX_KEY) is None else None
        if fallback is not None:
            print(f"no index in {store.describe()}; serving the demo's data in {fallback.describe()} "
                  "(set PV_LOCAL_STORE or MINIO_ENDPOINT to choose a store)", file=sys.stderr)  # fmt: skip
            store = fallback
        if store.stat(INDEX_KEY) is None:
            # Not fatal: the index appears with the first collection, and the pages say so meanwhile.
            print(f"warning: {NO_INDEX.format(store=store.describe())}", file=sys.stderr)
    except ObjectStoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not is_loopback(host):
        print(f"warning: serving on {host}, reachable from other machines; put it behind TLS", file=sys.stderr)
    mode = "password (PV_GALLERY_PASSWORD)" if config.password else f"proxy header {config.trusted_user_header}"
    names = ", ".join(sorted(config.host_names))
    print(f"gallery on http://{host}:{port}/ over {store.describe()}; login: {mode}; Host: {names}", file=sys.stderr)
    app = create_app(store, config)
    # Load the index while the server starts, so the first visitor does not wait for it.
    threading.Thread(target=warm_up, args=(app,), name="gallery-index-warm-up", daemon=True).start()
    uvicorn.Server(uvicorn_config(app, host, port)).run()
    return 0


def warm_up(app) -> None:
    with contextlib.suppress(Exception):  # the pages report whatever went wrong, on the first request
        app.state.index.snapshot().search_table()  # the global search too: its table takes a second at 1M rows
