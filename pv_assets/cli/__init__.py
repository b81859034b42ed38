"""The `pv-media` command line: one module per command, `main` reads the arguments and dispatches."""
