# The README's quick start: `make run` and `make test`. Everything else here serves those two.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
DB ?= data/demo.duckdb
PORT ?= 8501

.PHONY: run test install demo lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=python3"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(DB): | $(VENV)/.installed
	$(PY) -m analysis demo --db $(DB)

demo: $(VENV)/.installed
	$(PY) -m analysis demo --db $(DB)

run: $(VENV)/.installed $(DB)
	DASHBOARD_DB=$(abspath $(DB)) $(VENV)/bin/streamlit run dashboard/app.py \
		--server.address 127.0.0.1 --server.port $(PORT) --server.headless true

test: $(VENV)/.installed
	$(PY) -m pytest

bench: $(VENV)/.installed
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) $(DB)
