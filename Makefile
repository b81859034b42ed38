# pv-media: `make demo` and `make test` each set themselves up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# The same version as pyproject's dev extra and deploy/Dockerfile (tests/test_dependencies.py checks).
UV_VERSION := 0.13.9

.PHONY: install demo test test-fast lint ui bench scale clean

# A virtualenv with exactly the locked versions (uv.lock: runtime, the simulator and the dev tools) and the
# project itself as an editable install; synced again when pyproject.toml or uv.lock changes. --frozen: the
# lock is installed as committed, never re-resolved (after changing dependencies: `.venv/bin/uv lock`).
# --compile-bytecode: every `pv-media` start would otherwise compile ~2,500 modules where PYTHONDONTWRITEBYTECODE
# is set or site-packages is read-only (about 2.8 of a 6.7 s `collect`; docs/performance.md).
$(STAMP): pyproject.toml uv.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(VENV)/bin/uv sync --quiet --frozen --extra dev --python $(PY) --compile-bytecode
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pv-media demo

test: $(STAMP)
	$(PY) -m pytest

# The fast tier alone: no server, no browser, no subprocess (docs/testing.md).
test-fast: $(STAMP)
	$(PY) -m pytest -m "not integration"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The Dagster UI over the instance that `pv-media collect` writes to.
ui: $(STAMP)
	$(VENV)/bin/pv-media ui

clean:
	rm -rf $(VENV) .dagster_home var conf/staging *.egg-info

# The benchmark: pv-media side by side with the seed's loop, in one run (a few minutes).
bench: $(STAMP)
	$(PY) -m bench.run

# pv-media as a production deployment, measured: PostgreSQL-backed Dagster with the daemon and the code
# server as processes, moto S3 and the simulator (about an hour at full size; see bench/scale.py).
scale: $(STAMP)
	$(PY) -m bench.scale $(SCALE_ARGS)
