# Two commands for a newcomer: `make run` (set up, index docs/, serve) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
export HF_HUB_OFFLINE := 1

.PHONY: setup browser index run test lint screenshot bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU wheel of torch first, so nothing below can pull the multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium for the browser tests of the chat page; Playwright (a dev extra) drives it.
# Never `playwright install`: it downloads its own browsers, which fails offline.
browser:
	test -x $(CHROMIUM) || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

index: setup
	$(BIN)/rag index docs/

run: setup
	$(BIN)/rag serve --docs docs/

lint: setup
	$(BIN)/ruff check rag tests
	$(BIN)/mypy rag

test: lint browser
	$(BIN)/pytest -q

# eval/screenshots/chat.png, the README's picture: a real `rag serve` over docs/ in Chromium.
screenshot: setup browser
	$(BIN)/pytest -q -m slow tests/test_web.py -k screenshot

# Speed against sentence-transformers on torch: one table (eval/results/bench/bench.md).
bench: setup
	$(BIN)/rag bench

clean:
	rm -rf $(VENV) index/current index/builds
