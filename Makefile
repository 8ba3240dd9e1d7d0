# Jiandu — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test travel lint typecheck unit integration faults fmt bench clean chromium browser fuzz

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (found: $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests (tests/browser) drive Debian's Chromium through Playwright; no browser
# download. As root (CI) it is installed here; otherwise say how.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium and CJK fonts for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else \
		echo "The browser tests need Chromium at $(CHROMIUM): run 'sudo apt-get install -y chromium fonts-noto-cjk' (Debian/Ubuntu), then make again."; \
		exit 1; \
	fi

browser: $(STAMP) chromium
	$(BIN)/pytest tests/browser

demo: $(STAMP)
	$(BIN)/jiandu up --demo-data

lint: $(STAMP)
	$(BIN)/ruff check services schemas tests bench
	$(BIN)/ruff format --check services schemas tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Unit tests need nothing running; integration and e2e tests start a throwaway
# PostgreSQL and the Tansu Kafka-protocol broker themselves (tests/support/).
# Then the unit suite again on a clock moved a year ahead, at 01:30 Beijing time on a UTC
# host: no test may depend on the day it runs, nor on the host's time zone.
test: lint typecheck chromium
	$(BIN)/pytest
	TZ=UTC JIANDU_TEST_TRAVEL=365@01:30 $(BIN)/pytest tests/unit -q

# The unit suite on another day and hour (DAYS@HH:MM China time, from today).
travel: $(STAMP)
	TZ=UTC JIANDU_TEST_TRAVEL=$${DAYS:-365}@$${AT:-01:30} $(BIN)/pytest tests/unit -q

unit: $(STAMP)
	$(BIN)/pytest tests/unit

# The distributed processes under paced load, through kill -9, a PostgreSQL restart, the
# broker out of reach and second consumers (tests/faults; also part of `make test`).
faults: $(STAMP)
	$(BIN)/pytest tests/faults -v
# schemathesis against every app's /openapi.json, every role and none (also in `make test`).
fuzz: $(STAMP)
	$(BIN)/pytest tests/fuzz -s

fmt: $(STAMP)
	$(BIN)/ruff check --fix services schemas tests bench
	$(BIN)/ruff format services schemas tests bench

# Every benchmark, then one table of all figures with their same-run baselines and the
# issue's goals (bench/run_all.py): printed, written to bench/latest.md and README.md.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
