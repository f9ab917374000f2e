# Two commands for a new user: `make serve` runs the service, `make test` runs the tests.
# Both create .venv and install the project with the pinned versions in constraints.txt.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint openapi constraints clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/parental serve

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

openapi: $(STAMP)
	$(BIN)/parental openapi --output openapi/openapi.json

# Re-pin every dependency to what resolves today (run after changing pyproject.toml).
constraints:
	rm -rf .venv-pin && $(PYTHON) -m venv .venv-pin
	.venv-pin/bin/pip install --quiet -e '.[dev,load]'
	.venv-pin/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt
	rm -rf .venv-pin

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
