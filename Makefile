# The two commands of the README: `make demo` and `make test`.
# Each creates .venv on first use and installs Branchline into it.
PYTHON ?= python3
VENV ?= .venv
ARGS ?=

.PHONY: install demo test bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

install: $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test,postgres]'

demo: install
	$(VENV)/bin/branchline-demo $(ARGS)

test: install
	$(VENV)/bin/python -m pytest tests $(ARGS)
