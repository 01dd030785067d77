# govhall: the two set-up commands are `make demo` and `make test`; both install what they need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed
DEBIAN_PACKAGES ?= chromium fonts-noto-cjk espeak-ng sox libzbar0 libusb-1.0-0

.PHONY: install demo test lint clean system-deps

install: $(STAMP)

$(STAMP): pyproject.toml assets/web/package-lock.json
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,postgres,redis,eventlet,kiosk]"
	cd assets/web && npm ci --no-audit --no-fund --loglevel=error
	@touch $(STAMP)

# Debian packages the pages, voice and devices need; installed only when we are root and they are missing.
system-deps:
	@scripts/system-deps.sh $(DEBIAN_PACKAGES)

demo: install system-deps
	$(BIN)/govhall demo --port $(PORT)

test: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy queue_server/queue hardware

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
