# fuling-sim — two commands do all the set-up:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
DEB_RUN  := fonts-noto-cjk
DEB_TEST := fonts-noto-cjk chromium

.PHONY: run test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); sh scripts/system-deps.sh python3-venv && $(PYTHON) -m venv $(VENV); }

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(RUN_STAMP)
	$(PY) -m pip install -q -e ".[test]"
	touch $@

## make run: set up (venv, packages) and run the default scenario, printing a summary
run: $(RUN_STAMP)
	@sh scripts/system-deps.sh --optional $(DEB_RUN)
	$(VENV)/bin/fuling-sim run

## make test: set up (venv, test extras, Debian packages) and run lint + every test
test: $(TEST_STAMP)
	sh scripts/system-deps.sh $(DEB_TEST)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache results
