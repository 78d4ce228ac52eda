# Two commands on a fresh machine: `make run` (the demo site) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JSDIR  := tests/interop/js

.PHONY: setup run test bench clean

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,django,redis]'
	touch $@

$(JSDIR)/node_modules/.installed: $(JSDIR)/package.json
	cd $(JSDIR) && npm install --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed $(JSDIR)/node_modules/.installed

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

run: setup
	$(PY) -m wsgi_sio demo.app:application --bind 127.0.0.1:8000

# wsgi_sio against python-socketio (bench/README.md); `make bench BENCH_ARGS=--quick` for a smoke run
bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(JSDIR)/node_modules
