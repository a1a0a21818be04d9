# The README's two commands: `make demo` and `make test`.  Both set everything up first
# (a virtual environment in .venv with jwcal, every instrument plugin, and the test extra).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGINS := nircam niriss nirspec miri fgs
DEMO_DIR ?= demo
PYTEST_ARGS ?=

.PHONY: setup demo test test-all bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(foreach p,$(PLUGINS),plugins/$(p)/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]" $(foreach p,$(PLUGINS),-e plugins/$(p))
	touch $@

demo: setup
	$(VENV)/bin/jwcal demo $(DEMO_DIR)

test: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_DIR)
