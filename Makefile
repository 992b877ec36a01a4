# Two commands for a newcomer: `make run` (set up, index docs/, serve) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1

.PHONY: setup index run test lint eval eval-squad bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU wheel of torch first, so nothing below can pull the multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

index: setup
	$(BIN)/rag index docs/

run: setup
	$(BIN)/rag serve --docs docs/

lint: setup
	$(BIN)/ruff check rag tests
	$(BIN)/mypy rag

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) index/current index/builds
