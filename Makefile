# pv-media: `make demo` and `make test` each set themselves up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint ui bench scale clean

# A virtualenv with the project (editable) and its dev tools, rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pv-media demo

test: $(STAMP)
	$(PY) -m pytest

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
