# make serve: set up the runtime and run the app on embedded defaults.
# make test: add the test extras (Playwright, the other frameworks, schemathesis, Flower) and run the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed
# the gettext catalogs: .po in the repository, .mo compiled here (and by setup.py when built or installed)
CATALOGS := $(patsubst %.po,%.mo,$(wildcard pyramid_jobs/locale/*/LC_MESSAGES/*.po))

.PHONY: serve test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 'setuptools<80.9' wheel

$(RUNTIME): $(BIN)/python setup.py
	$(BIN)/pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME) setup.py examples/shout_plugin/setup.py
	$(BIN)/pip install --quiet -e '.[testing]'
	$(BIN)/pip install --quiet -e examples/shout_plugin
	touch $(STAMP)

%.mo: %.po pyramid_jobs/msgfmt.py
	$(PYTHON) pyramid_jobs/msgfmt.py

serve: $(RUNTIME) $(CATALOGS)
	mkdir -p var
	$(BIN)/pserve development.ini

test: $(STAMP) $(CATALOGS)
	$(BIN)/ruff check .
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf var .pytest_cache build *.egg-info
