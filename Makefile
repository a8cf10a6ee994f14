# The README's quick start: `make run` and `make test`. Everything else here serves those two.
# Python 3.11: python3.11 if present, else python3 (checked below).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null || echo python3.11)
VENV := .venv
PY := $(VENV)/bin/python
DB ?= data/demo.duckdb
PORT ?= 8501
DEMO_ACCOUNTS ?=
PYTEST_ARGS ?=

.PHONY: run test install demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "error: $(PYTHON) is not Python 3.11: run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing requirements.txt into $(VENV) (a few minutes the first time)"
	@# --no-compile: byte-compiling every file of torch and transformers up front costs minutes on 2 cores;
	@# Python compiles the modules actually imported, once, on first use.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt
	touch $@

# Spark (issue 22): pyspark and sqlglot for `--engine spark`, kept out of requirements.txt so that
# `make run` stays lean; `make test` installs them because the Spark tests run in local mode.
$(VENV)/.installed-spark: requirements-spark.txt $(VENV)/.installed
	@command -v java >/dev/null 2>&1 || [ -n "$$JAVA_HOME" ] || echo "warning: no java on PATH: the Spark tests need Java 17+ (apt-get install openjdk-17-jre-headless)"
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-spark.txt
	touch $@

# Built only when missing (a progress bar shows on stderr); `make demo` rebuilds it. This first build
# scores the texts with VADER (seconds), so the dashboard serves at once; `run` then rescores them with
# the configured model (the transformer: minutes) in the background and publishes a new version of the
# database when done (analysis/store.py), which the open pages show on their next run.
$(DB): | $(VENV)/.installed
	$(PY) -m analysis demo --db $(DB) --sentiment-model vader $(if $(DEMO_ACCOUNTS),--accounts $(DEMO_ACCOUNTS))

demo: $(VENV)/.installed
	$(PY) -m analysis demo --db $(DB) $(if $(DEMO_ACCOUNTS),--accounts $(DEMO_ACCOUNTS))

run: $(VENV)/.installed $(DB)
	@# nothing to do (a second's check) when the stored scores are already the configured model's
	$(PY) -m analysis refresh --db $(DB) --if-sentiment-model-changed > $(DB).rescore.log 2>&1 &
	DASHBOARD_DB=$(abspath $(DB)) exec $(VENV)/bin/streamlit run dashboard/app.py \
		--server.address 127.0.0.1 --server.port $(PORT) --server.headless true

test: $(VENV)/.installed $(VENV)/.installed-spark
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# The database path is a link to its current version in a hidden folder beside it (analysis/store.py).
clean:
	rm -rf $(VENV) $(DB) $(dir $(DB)).$(notdir $(DB)).versions $(dir $(DB)).$(notdir $(DB)).lock
