"""What every command shares: the consoles and the Dagster home the runs and the UI use."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from rich.console import Console

from resources.settings import dagster_home, instance_config_file

err = Console(stderr=True, soft_wrap=True, highlight=False)
# Wide enough for the summary table when the output goes to a file or CI log.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def prepare_dagster_home() -> Path:
    """DAGSTER_HOME (default ./.dagster_home) with the project's instance config, so runs show in `dagster dev`."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    if not config.exists() and instance_config_file().is_file():
        # Copied under another name and renamed: a second process never reads half a file.
        partial = home / f".dagster.yaml.{os.getpid()}"
        shutil.copyfile(instance_config_file(), partial)
        os.replace(partial, config)
    return home
