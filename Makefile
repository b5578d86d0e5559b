# pkgcloud — `make run` starts everything in one process; `make test` runs the whole suite.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: run test unit lint install protos clients system-deps bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The workspace venv, from the lock, with every service installed editable.
install: $(UV)
	$(UV) sync --frozen --all-packages --python $(PYTHON)

run: install
	$(VENV)/bin/pkgcloud all

# Pinned real clients, each in its own venv: anaconda-client 1.16.0 (packages, labels,
# tokens, groups), 1.13.0 (notebooks, environments) and 1.2.2 (the seed's walkthrough; on
# Python 3.8, found on PATH or in pyenv), pip and twine.
clients: $(UV)
	$(PYTHON) tests/clients/install.py

# What the suite needs from the machine: RabbitMQ on 127.0.0.1:5672 (the bus tests and the
# split topology) and Debian's Chromium + chromedriver (notebook XSS and web UI tests).
# Installed only when missing; needs root and apt, as on CI.
system-deps:
	@sh tests/clients/system_deps.sh

# ruff with the rules chosen in pyproject.toml ([tool.ruff]); `make test` runs it first.
lint: install
	$(VENV)/bin/ruff check .

# Two phases: everything that shares the machine in parallel, then alone what disturbs the
# machine's shared services (the chaos test restarts RabbitMQ), printing its figures (-rA).
test: install lint clients system-deps
	$(VENV)/bin/python -m pytest -n 2 --dist loadscope -m "not exclusive"
	$(VENV)/bin/python -m pytest -m exclusive -rA -p no:logging

# The services' own unit tests (no real clients, no broker, no browser): the inner loop.
UNIT_TESTS := servicekit/tests auth-svc/tests registry-svc/tests index-svc/tests render-svc/tests gateway/tests
unit: install
	$(VENV)/bin/python -m pytest -n 2 --dist loadscope -m "not rabbitmq and not split" $(UNIT_TESTS)

protos: $(UV)
	$(UV) run --frozen --all-packages --python $(PYTHON) python -m pkgcloud_servicekit.protogen

bench: install clients
	$(VENV)/bin/python bench/upload_download_rss.py

clean:
	rm -rf $(VENV) $(TOOLS) .clients var
