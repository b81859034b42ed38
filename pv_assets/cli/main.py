"""`pv-media collect | demo | simulate | ui | gallery | dialect check` - the command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from pv_assets.cli import collect, demo, dialect, gallery, simulate, ui
from pv_assets.cli.signals import restore_termination_signals
from resources import log_masking

# Commands whose arguments belong to another program (the simulator, `dagster dev`): passed on untouched.
PASS_THROUGH = {"simulate": simulate.run, "ui": ui.run}
COMMANDS = {"collect": collect.run, "demo": demo.run, "gallery": gallery.run, "dialect": dialect.run}


def main(argv: Sequence[str] | None = None) -> int:
    # Arrow's own allocator (jemalloc/mimalloc) keeps what it freed: ~35 MiB of a short command's peak for a few
    # Parquet reads. Set before pyarrow loads; a value the user set wins.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    restore_termination_signals()
    log_masking.install()
    parser = argparse.ArgumentParser(prog="pv-media", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (collect, demo, gallery, dialect, ui, simulate):
        command.add_parser(commands)
    args, rest = parser.parse_known_args(argv)
    if args.command in PASS_THROUGH:
        return PASS_THROUGH[args.command](rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
