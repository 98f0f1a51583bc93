# The two commands of the README: `make demo` and `make test`.
# Each creates .venv on first use and installs Branchline into it; `make test` also
# installs the pinned realtime clients (pusher-js, laravel-echo, pusher) into
# tests/node/node_modules with npm.
PYTHON ?= python3
VENV ?= .venv
ARGS ?=
# The suite runs in two processes (pytest-xdist), a test file each at a time: most
# tests wait on servers and timers, so two share this 2-core machine well.
TEST_WORKERS ?= 2

NODE_CLIENTS = tests/node/node_modules

.PHONY: install demo test bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

install: $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test,postgres,redis]'

demo: install
	$(VENV)/bin/branchline-demo $(ARGS)

$(NODE_CLIENTS): tests/node/package.json tests/node/package-lock.json
	npm --prefix tests/node ci --no-audit --no-fund
	touch $@

test: install $(NODE_CLIENTS)
	$(VENV)/bin/python -m pytest tests -n $(TEST_WORKERS) --dist loadfile $(ARGS)
