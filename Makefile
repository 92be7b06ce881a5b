# Two entry points, as the README's Quickstart says: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME := $(VENV)/.runtime

.PHONY: run shell test services lint unit validate bench clean

# Front-end libraries from npm at the versions package-lock.json pins, copied where parlez
# serves them itself (the console works offline). Without npm the console still works, with
# full page loads instead of live updates.
VENDOR := parlez/console/static/vendor
FRONT_END := $(VENDOR)/.installed
$(FRONT_END): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --silent && mkdir -p $(VENDOR) && \
		cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js && \
		cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css \
			$(VENDOR)/ && touch $(FRONT_END); \
	else echo "npm is not installed: the console runs without live updates or charts" \
		"(apt-get install npm)"; fi

# What serving the assistant needs (`make run`): parlez and the assistant's extras.
$(RUNTIME): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[assistant]'
	@touch $(RUNTIME)

# What the tests need besides (`make test`): every extra, and the test tools.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP) $(RUNTIME)

# Set up, check the assistant's project files and train it (`parlez train` checks them
# first; each part is reused when its inputs did not change), and serve it on 127.0.0.1:5005: the web chat (/webchat/), REST and
# Rasa's HTTP API, conversations kept in conversations.db (SQLite), and the console
# (/console/; `parlez console add-user` makes its first user, as `parlez run` says).
run: $(RUNTIME) $(FRONT_END)
	$(BIN)/parlez train
	$(BIN)/parlez run --enable-api

# Talk to the assistant in the terminal.
shell: $(RUNTIME)
	$(BIN)/parlez train
	$(BIN)/parlez shell

validate: $(RUNTIME)
	$(BIN)/parlez data validate

# Set up and run the whole test suite: lint, types, then pytest.
# pytest exits 5 when it collects no test; make treats that as a failure too.
test: $(STAMP) services $(FRONT_END) lint unit

# PostgreSQL, Redis and RabbitMQ, which the tests start for real (installed when missing).
services:
	bash scripts/install-test-services.sh

lint: $(STAMP)
	$(BIN)/ruff check parlez tests bench actions connectors
	$(BIN)/ruff format --check parlez tests bench actions connectors
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/load.py
	$(BIN)/python bench/nlu.py
	$(BIN)/python bench/dialogue.py
	$(BIN)/python bench/webchat.py
	$(BIN)/python bench/start.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
