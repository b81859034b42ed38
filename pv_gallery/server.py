"""`pv-media gallery`: the gallery app on uvicorn, over the store the collection writes to."""

from __future__ import annotations

import contextlib
import ipaddress
import sys
import threading

from pv_gallery.index import INDEX_KEY
from pv_gallery.security import GalleryConfig, GalleryConfigError
from resources.object_store import ObjectStore, ObjectStoreError, store_from_settings

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
NO_INDEX = "no gallery index yet in {store}: run the collection first: pv-media collect --all"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_gallery(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, store: ObjectStore | None = None) -> int:
    """Serve until interrupted; exit code 2 when the gallery cannot start as configured."""
    import uvicorn

    from pv_gallery.app import create_app

    try:
        config = GalleryConfig.from_env()
    except GalleryConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if config.trusted_user_header and not is_loopback(host):
        # Anyone who reaches the port could send the header: only the proxy on this machine may.
        print(
            f"error: with PV_GALLERY_TRUSTED_USER_HEADER the gallery must listen on loopback behind the proxy, "
            f"not {host}",
            file=sys.stderr,
        )
        return 2
    store = store or store_from_settings()
    try:
        if store.stat(INDEX_KEY) is None:
            # Not fatal: the index appears with the first collection, and the pages say so meanwhile.
            print(f"warning: {NO_INDEX.format(store=store.describe())}", file=sys.stderr)
    except ObjectStoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not is_loopback(host):
        print(f"warning: serving on {host}, reachable from other machines; put it behind TLS", file=sys.stderr)
    mode = "password (PV_GALLERY_PASSWORD)" if config.password else f"proxy header {config.trusted_user_header}"
    print(f"gallery on http://{host}:{port}/ over {store.describe()}; login: {mode}", file=sys.stderr)
    app = create_app(store, config)
    # Load the index while the server starts, so the first visitor does not wait for it.
    threading.Thread(target=warm_up, args=(app,), name="gallery-index-warm-up", daemon=True).start()
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
    return 0


def warm_up(app) -> None:
    with contextlib.suppress(Exception):  # the pages report whatever went wrong, on the first request
        app.state.index.snapshot()
