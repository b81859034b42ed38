"""`python -m pv_assets.cli`: how `collect --parallel` starts its child processes."""

import sys

from pv_assets.cli.main import main

sys.exit(main())
