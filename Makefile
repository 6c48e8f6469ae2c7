# The two commands of the README: `make run` and `make test`. Both set up the virtual environment first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test validate bench clean docs browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# An editable install leaves our modules uncompiled, and where PYTHONDONTWRITEBYTECODE is set (as on our
	@# CI machines) every run would compile ~70 of them again: 0.1-0.15 s of each cold `gigawatt run`.
	$(BIN)/python -m compileall -q gigawatt solver models cases validation >/dev/null
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gigawatt run

test: $(STAMP) browser
	$(BIN)/pytest

# The report's browser test (tests/test_report_browser.py) drives Debian's Chromium through Playwright (the
# Python package is a test dependency; Playwright's own browser download is not used). Installed here when
# missing and we are root; never fails the build: without a browser that test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; } || \
	  echo "chromium not installed: the report's browser test will skip"

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
