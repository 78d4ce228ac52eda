# Two commands on a fresh machine: `make run` (the demo site) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JSDIR  := tests/interop/js
DJJS   := wsgi_sio/django/js
DJSTATIC := wsgi_sio/django/static/wsgi_sio
CHROMIUM := /usr/bin/chromium
REDIS    := /usr/bin/redis-server
NGINX    := /usr/sbin/nginx
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test bench clean fuzz dist

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,django,redis]'
	touch $@

$(JSDIR)/node_modules/.installed: $(JSDIR)/package.json
	cd $(JSDIR) && npm install --no-audit --no-fund --loglevel=error
	touch $@

# socket.io-client for Django's staticfiles ({% load wsgi_sio %}{% socketio_client %})
$(DJSTATIC)/socket.io.min.js: $(DJJS)/package.json $(DJJS)/package-lock.json $(DJJS)/SHA256SUMS
	cd $(DJJS) && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(DJSTATIC)
	cp $(DJJS)/node_modules/socket.io-client/dist/socket.io.min.js \
	   $(DJJS)/node_modules/socket.io-client/dist/socket.io.min.js.map $(DJSTATIC)/
	cd $(DJSTATIC) && sha256sum -c --quiet --ignore-missing $(CURDIR)/$(DJJS)/SHA256SUMS

# socket.io-client 0.9.16 for pages still on the 0.9 API ({% load socketio_tags %}{% socketio %}
# under runserver_socketio / WSGI_SIO["LEGACY_CLIENTS"]); pinned in its package.json and by sha256
# in SHA256SUMS, never committed
LEGACYJS := wsgi_sio/legacy09/js
$(DJSTATIC)/socket.io-0.9.16.min.js: $(LEGACYJS)/package.json $(LEGACYJS)/package-lock.json $(DJJS)/SHA256SUMS
	cd $(LEGACYJS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(DJSTATIC)
	cp $(LEGACYJS)/node_modules/socket.io-client/dist/socket.io.min.js $@
	cd $(DJSTATIC) && sha256sum -c --quiet --ignore-missing $(CURDIR)/$(DJJS)/SHA256SUMS

# Debian's chromium for the browser tests (Playwright drives it; it downloads no browser)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium

# Debian's redis-server: the Redis tests use 127.0.0.1:6379 when it answers, else start their own
$(REDIS):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq redis-server

# Debian's nginx-light for the cluster tests (tests/interop/test_cluster_nginx.py), which start
# their own nginx on a free port. A policy-rc.d that answers 101 ("action forbidden") keeps the
# package's postinst from starting the system service on :80 during the install.
$(NGINX):
	$(SUDO) apt-get update -qq
	if [ -e /usr/sbin/policy-rc.d ]; then $(SUDO) apt-get install -y -qq nginx-light; else \
	  printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null && \
	  $(SUDO) chmod 755 /usr/sbin/policy-rc.d && \
	  { $(SUDO) apt-get install -y -qq nginx-light; status=$$?; \
	    $(SUDO) rm -f /usr/sbin/policy-rc.d; exit $$status; }; fi

setup: $(VENV)/.installed $(JSDIR)/node_modules/.installed $(DJSTATIC)/socket.io.min.js \
       $(DJSTATIC)/socket.io-0.9.16.min.js

# the linters the project configures (pyproject.toml) first: they take seconds, the suite minutes
test: setup $(CHROMIUM) $(REDIS) $(NGINX)
	$(PY) -m ruff check wsgi_sio tests
	$(PY) -m mypy wsgi_sio
	$(PY) -m pytest -q -p no:cacheprovider

# The Django demo (sample_site/) on one port; demo users alice and bob, password socketio.
run: setup
	cd sample_site && ../$(PY) manage.py migrate --noinput -v0
	cd sample_site && ../$(PY) manage.py create_demo_users
	cd sample_site && ../$(PY) manage.py runserver_sio 127.0.0.1:8000

# wsgi_sio against python-socketio (bench/README.md); `make bench BENCH_ARGS=--quick` for a smoke run
bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)

# dist/wsgi_sio-*.tar.gz and the wheel built from it, both with the client JavaScript (setup.py
# checks it against wsgi_sio/django/js/SHA256SUMS): what `pip install` needs, no npm
dist: $(VENV)/.installed $(DJSTATIC)/socket.io.min.js
	rm -rf dist
	$(PY) -m build --outdir dist .

clean:
	rm -rf $(VENV) $(JSDIR)/node_modules $(DJJS)/node_modules $(LEGACYJS)/node_modules $(DJSTATIC) dist build

# atheris over the packet, frame, query and header decoders (not in CI; installs atheris)
fuzz: $(VENV)/.installed
	$(PY) fuzz/run.py 60
