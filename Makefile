VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test venv lint bench clean prod-local prod-stop

$(VENV)/.installed: requirements/base.txt requirements/worker.txt requirements/worker-nodeps.txt requirements/dev.txt \
		requirements/neural.txt requirements/neural-nodeps.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements/dev.txt
	$(PY) -m pip install -q --no-deps -r requirements/worker-nodeps.txt
	$(PY) -m pip install -q -r requirements/neural.txt
	$(PY) -m pip install -q --no-deps -r requirements/neural-nodeps.txt
	touch $@

venv: $(VENV)/.installed

## Run the whole product locally: venv, requirements, redis, migrate, demo data, worker + web.
run: venv
	bash scripts/system_packages.sh
	bash scripts/run_local.sh

## Run the test suite (real redis-server, real rq worker, Debian chromium for e2e).
test: venv
	bash scripts/system_packages.sh --with-browser
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

## The production stack on loopback (README "Production and scale-out"): PostgreSQL, Redis, nginx in
## front of 2 daphne, 2 gpu_workers + rq scheduler, production settings. Detached; stop with prod-stop.
prod-local: venv
	$(PY) -m pip install -q -r requirements/prod.txt
	bash scripts/prod_local.sh up

prod-stop:
	bash scripts/prod_local.sh down

lint: venv
	$(PY) -m ruff check .

bench: venv
	$(PY) bench/job_time.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
