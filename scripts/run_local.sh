#!/usr/bin/env bash
# `make run`: Redis (if not running), migrate, demo data, one swap worker and the daphne web server.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
REDIS_PORT=${REDIS_PORT:-6379}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT}/0}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-loveloveshot.settings.local}
mkdir -p var/log

if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  echo "Starting redis-server on 127.0.0.1:$REDIS_PORT (appendonly, data in var/redis)"
  mkdir -p var/redis
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$PWD/var/redis" --appendonly yes \
    --daemonize yes --logfile "$PWD/var/log/redis.log"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

$PY manage.py migrate --noinput
$PY manage.py seed_demo | tee var/log/seed.log

$PY manage.py gpu_worker >var/log/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM

cat <<MSG

  LoveLoveShot is running:  http://127.0.0.1:${PORT}/
  Demo login:               demo@loveloveshot.kr / lovelove-demo-2026   (Standard plan)
  Premium / admin logins:   premium@loveloveshot.kr, admin@loveloveshot.kr (same password)
  Admin:                    http://127.0.0.1:${PORT}/admin/      API docs: http://127.0.0.1:${PORT}/api/docs/
  Worker log:               var/log/worker.log        Stop with Ctrl-C.

MSG
$PY -m daphne -b 127.0.0.1 -p "$PORT" loveloveshot.asgi:application
