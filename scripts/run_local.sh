#!/usr/bin/env bash
# `make run`: the environment, then scripts/supervise.py (Redis, migrate, demo data, workers, daphne;
# restarts what exits; Ctrl-C stops everything it started). Reads nothing outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export PORT=${PORT:-8000}
export REDIS_PORT=${REDIS_PORT:-6379}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT}/0}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-loveloveshot.settings.local}
export PYTHONUNBUFFERED=1
# Quiet native libraries (TensorFlow Lite in MediaPipe, absl/glog); caches inside the repository.
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
export GLOG_minloglevel=${GLOG_minloglevel:-2}
export MPLCONFIGDIR=${MPLCONFIGDIR:-$PWD/var/cache/matplotlib}
mkdir -p var/log "$MPLCONFIGDIR"
exec "$PY" "$PWD/scripts/supervise.py"
