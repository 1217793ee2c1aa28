# The two commands of the README: `make run` and `make test`. Both create .venv on first
# use and, unless DATABASE_URL / REDIS_URL are set, start embedded PostgreSQL and Redis.
# `make manage ARGS="..."` and `make shell` run manage.py against the same servers
# (those of a running `make run`, or started for the command). `make run PORT=8001`
# serves on another port.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run manage shell test bench fuzz lint format clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/dev.py run

manage: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/dev.py manage $(ARGS)

shell: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/dev.py manage shell $(ARGS)

test: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/dev.py test $(ARGS)

bench: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/dev.py bench $(ARGS)

fuzz: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/dev.py fuzz

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf .devdata
