# `make run` and `make test` each set up everything they need on a fresh machine, then do their job.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The demo study lives under var/demo: its database, its blinded media store, its source files.
DEMO := var/demo
PORT ?= 8501
DEMO_ENV := OBSCODE_DATABASE_URL=sqlite:///$(DEMO)/obscode.db OBSCODE_MEDIA_DIR=$(DEMO)/media-store

# The OpenID provider the institution sign-in tests start (tests/oidc), as its lockfile pins it.
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
# The coding player's waveform drawing (wavesurfer.js), as its lockfile pins it.
WAVESURFER := coding_app/web/waveform/node_modules/.package-lock.json

# The versions the suite last passed with: every install takes them, so the tool can be rebuilt as tested.
# `make constraints` resolves afresh from pyproject.toml and rewrites the file; then run `make test`.
CONSTRAINTS := constraints.txt

.PHONY: run test check bench system constraints

# Debian packages the project runs on: ffmpeg (media), PostgreSQL (multi-site store, tests),
# Chromium (browser tests; Playwright's own browser download cannot play H.264), Node and npm
# (the player's waveform drawing, the tests' OpenID provider), nginx (the proxy in front of replicas, tested).
system:
	@missing=""; \
	command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(INSTALLED): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "obscode needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	# irrCAC, Gwet's own figures for the tests, pins scipy==1.12 and pandas<3 (older than pingouin
	# and the app need) but runs on today's: installed without its pins.
	$(BIN)/pip install --quiet --no-deps irrCAC==0.4.4
	touch $@

run: system $(INSTALLED) $(WAVESURFER)
	$(DEMO_ENV) $(BIN)/python -m fixtures.load_demo $(DEMO)/study
	@echo; echo "obscode demo study: open http://localhost:$(PORT) and sign in as"; \
	$(BIN)/python -c 'from fixtures.load_demo import ACCOUNTS; [print(f"  {n:14} {p:20} ({r})") for n, (r, p) in ACCOUNTS.items()]'; echo
	$(DEMO_ENV) $(BIN)/obscode run --port $(PORT)

$(WAVESURFER): coding_app/web/waveform/package-lock.json
	npm ci --prefix coding_app/web/waveform --no-audit --no-fund --loglevel=error

$(OIDC_PROVIDER): tests/oidc/package-lock.json
	npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error

test: system $(INSTALLED) $(WAVESURFER) $(OIDC_PROVIDER)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

# The quick loop: lint, types and the tests no marker calls heavy (SQLite only, no browser, no root, nothing slow).
# mypy from cold (a fresh checkout) takes about 20 s of one core: it runs beside the tests, which use one core.
check: system $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy & mypy=$$!; \
	$(BIN)/pytest -q -m "not postgres and not browser and not root and not slow"; tests=$$?; \
	wait $$mypy && exit $$tests

constraints:
	rm -rf .venv-refresh && $(PYTHON) -m venv .venv-refresh
	.venv-refresh/bin/pip install --quiet --upgrade pip && .venv-refresh/bin/pip install --quiet -e '.[test]'
	{ echo "# The versions the whole suite last passed with, installed by make (pip -c). Refresh: make constraints."; \
	  .venv-refresh/bin/pip freeze --exclude-editable | grep -v '^irrCAC'; } > $(CONSTRAINTS)
	rm -rf .venv-refresh

bench: system $(INSTALLED) $(WAVESURFER)
	$(BIN)/python bench/bench_reliability.py
	$(BIN)/python bench/bench_media.py
	$(BIN)/python bench/bench_load.py
	$(BIN)/python bench/bench_pages.py
	$(BIN)/python bench/bench_player.py
