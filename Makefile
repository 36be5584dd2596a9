# VENV: where the virtualenv lives (default .venv in the checkout). Any path works, e.g. CI's fresh-clone
# check points a clone at the checkout's already-built venv: `make run VENV=/path/to/checkout/.venv`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q
PYTEST_ARGS ?=
# PyTorch's CPU wheel index for torch==2.13.0+cpu (neural tier only; empty: only your pip configuration).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# LLS_ENGINE=neural make run: the neural tier is installed first (it is on demand otherwise).
RUN_DEPS := $(VENV)/.installed-run $(if $(filter neural,$(LLS_ENGINE)),$(VENV)/.installed-neural)

.PHONY: run test venv neural lint bench clean prod-local prod-stop

# One stamp per tier, so each target installs only what it needs:
#   run    = web tier + CPU worker (base.txt + worker.txt, worker-nodeps.txt --no-deps)   `make run`
#   dev    = run + test tools (dev.txt)                                                     `make test`
#   neural = run + torch CPU, diffusers, transformers, peft, onnx (+ gfpgan --no-deps)     `make neural`
$(PY):
	python3 -m venv $(VENV)

$(VENV)/.installed-run: requirements/base.txt requirements/worker.txt requirements/worker-nodeps.txt | $(PY)
	$(PIP) -r requirements/worker.txt
	$(PIP) --no-deps -r requirements/worker-nodeps.txt
	touch $@

$(VENV)/.installed-dev: requirements/dev.txt $(VENV)/.installed-run
	$(PIP) -r requirements/dev.txt
	touch $@

$(VENV)/.installed-neural: requirements/torch-cpu.txt requirements/neural.txt requirements/neural-nodeps.txt \
		$(VENV)/.installed-run
	$(PIP) $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) -r requirements/torch-cpu.txt
	$(PIP) -r requirements/neural.txt
	$(PIP) --no-deps -r requirements/neural-nodeps.txt
	touch $@

## Everything (web + worker + tests + neural tier).
venv: $(VENV)/.installed-run $(VENV)/.installed-dev $(VENV)/.installed-neural

## The neural tier, on demand (ONNX swapper, GFPGAN, SD 1.5 + LoRA scene generation; CPU build of torch).
neural: $(VENV)/.installed-neural

## Run the whole product locally: web tier + CPU worker only, redis, migrate, demo data, workers + web,
## supervised (restarted if they exit); Ctrl-C stops everything. PORT=8000 REDIS_PORT=6379 by default.
run: $(RUN_DEPS)
	bash scripts/system_packages.sh
	PY=$(PY) bash scripts/run_local.sh

## Run the test suite (real redis-server, real rq worker, Debian chromium for e2e); tests/neural needs the
## neural tier, so `make test` installs it.
test: $(VENV)/.installed-dev $(VENV)/.installed-neural
	bash scripts/system_packages.sh --with-browser
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports  # architecture contracts (.importlinter, docs/architecture.md)
	$(PY) -m pytest $(PYTEST_ARGS)

## The production stack on loopback (README "Production and scale-out"): PostgreSQL, Redis, nginx in
## front of 2 daphne, 2 gpu_workers + rq scheduler, production settings. Detached; stop with prod-stop.
prod-local: $(VENV)/.installed-run
	$(PIP) -r requirements/prod.txt
	PY=$(PY) bash scripts/prod_local.sh up

prod-stop:
	PY=$(PY) bash scripts/prod_local.sh down

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .

bench: $(VENV)/.installed-dev
	$(PY) bench/job_time.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
