# Two entry points for a fresh machine: `make book` and `make test`.
# Each creates .venv as needed. torch goes first, pinned to the CPU wheel.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN ?= default
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: book test test-fast bench browser clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

book: $(VENV)/.installed
	$(VENV)/bin/agser book --run $(RUN)

# Headless Chromium for the browser test; where apt cannot install it the test skips and says why.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) ; } || \
	  echo "chromium not installed: the browser test will skip"

# pytest exits 5 when it collects nothing; that is a failure of the suite, said plainly.
test: $(VENV)/.installed browser
	$(PY) -m pytest ; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not slow"

bench: $(VENV)/.installed
	$(PY) benchmarks/run_all.py

clean:
	rm -rf _build papermill_runs/*/*.ipynb papermill_runs/*/tables papermill_runs/*/figures
