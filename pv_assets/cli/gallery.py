"""`pv-media gallery`: the managers' gallery web page over the collected photos and videos."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:
    gallery_cmd = commands.add_parser("gallery", help="the gallery web page over the collected photos and videos")
    gallery_cmd.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    gallery_cmd.add_argument("--port", type=int, default=8765, help="port (default 8765)")


def run(args: argparse.Namespace) -> int:
    # The viewer is its own package; loaded only for this command, so collecting never imports it.
    from pv_gallery.server import run_gallery

    return run_gallery(args.host, args.port)
