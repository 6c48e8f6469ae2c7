# The two commands of the README: `make run` and `make test`. Both set up the virtual environment first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test validate bench clean docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gigawatt run

test: $(STAMP)
	$(BIN)/pytest

validate: $(STAMP)
	$(BIN)/gigawatt validate

bench: $(STAMP)
	$(BIN)/gigawatt bench

docs: $(STAMP)
	$(BIN)/python -m gigawatt.cases.docs > docs/case-format.md
	$(BIN)/python -m gigawatt.sources > docs/sources.md
	$(BIN)/python -m gigawatt.solver.results_schema > docs/results-format.md

clean:
	rm -rf $(VENV) build *.egg-info
