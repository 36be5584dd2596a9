#!/usr/bin/env bash
# `make prod-local` / `make prod-stop`: the production stack on this machine, on loopback.
#   PostgreSQL (Debian package, private cluster in var/prod/pg), Redis (appendonly), nginx (Debian
#   package, its own config + prefix, not the system service) in front of 2 daphne instances,
#   2 `manage.py gpu_worker` on the same rq queue, and rq's scheduler — all with
#   loveloveshot.settings.production. Plain HTTP on 127.0.0.1 only: it sets the loopback-only
#   switches DJANGO_SECURE_SSL_REDIRECT=0 and LLS_INSECURE_COOKIES_FOR_LOOPBACK=1.
#
#   bash scripts/prod_local.sh up       start (idempotent: restarts the app processes)
#   bash scripts/prod_local.sh down     stop everything it started (data stays in var/prod)
#   bash scripts/prod_local.sh purge    stop and delete var/prod (database, redis, media)
#   bash scripts/prod_local.sh status   exit 0 when every process is up
#   bash scripts/prod_local.sh database-url   the cluster's DATABASE_URL (CI runs the suite on it)
# Ports: PROD_HTTP_PORT (8080), PROD_WEB_PORTS ("8001 8002"), PROD_WORKERS (2),
#        PROD_PG_PORT (54329), PROD_REDIS_PORT (6380). Logs: var/prod/log/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-.venv/bin/python}
P=${LLS_PROD_DIR:-$ROOT/var/prod}
HTTP_PORT=${PROD_HTTP_PORT:-8080}
WEB_PORTS=${PROD_WEB_PORTS:-8001 8002}
WORKERS=${PROD_WORKERS:-2}
PG_PORT=${PROD_PG_PORT:-54329}
REDIS_PORT=${PROD_REDIS_PORT:-6380}
RUN=$P/run
LOG=$P/log
umask 022

say() { printf '[prod-local] %s\n' "$*"; }
is_root() { [ "$(id -u)" -eq 0 ]; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

pgdata() {
  # The cluster lives in var/prod/pg; when root, it belongs to the `postgres` user, who must be able
  # to reach it (a checkout under a private home folder: fall back to a folder under /tmp).
  if [ -f "$P/pgdata-path" ]; then cat "$P/pgdata-path"; return; fi
  local dir=$P/pg
  if is_root && ! runuser -u postgres -- test -x "$P"; then
    dir=/tmp/lls-prod-pg-$(printf '%s' "$P" | cksum | cut -d' ' -f1)
  fi
  echo "$dir" >"$P/pgdata-path"
  echo "$dir"
}

system_packages() {
  local need=()
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
  [ -n "$(pg_bin)" ] || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  if ((${#need[@]})); then
    say "installing Debian packages: ${need[*]}"
    local sudo=""; is_root || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

python_packages() {
  $PY -c "import dj_database_url, psycopg" 2>/dev/null && return
  say "installing requirements/prod.txt"
  $PY -m pip install -q -r requirements/prod.txt
}

secret() {  # a value generated once and kept in var/prod/secrets/
  local file=$P/secrets/$1
  if [ ! -s "$file" ]; then
    (umask 077; mkdir -p "$P/secrets"; $PY -c "import secrets; print(secrets.token_urlsafe(${2:-32}))" >"$file")
  fi
  cat "$file"
}

postgres_up() {
  local bin data pw
  bin=$(pg_bin); data=$(pgdata); pw=$(secret pg-password)
  if [ ! -f "$data/PG_VERSION" ]; then
    say "initdb $data (PostgreSQL $(basename "$(dirname "$bin")"))"
    mkdir -p "$data"
    local pwfile; pwfile=$(mktemp)
    echo "$pw" >"$pwfile"
    if is_root; then chown postgres: "$data" "$pwfile"; fi
    chmod 700 "$data"
    as_pg "$bin/initdb" -D "$data" -U lls --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
      >"$LOG/initdb.log" 2>&1 || { cat "$LOG/initdb.log"; rm -f "$pwfile"; exit 1; }
    rm -f "$pwfile"
  fi
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=''" start >/dev/null
  fi
  if [ -z "$(PGPASSWORD=$pw psql -h 127.0.0.1 -p "$PG_PORT" -U lls -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'loveloveshot'")" ]; then
    PGPASSWORD=$pw psql -h 127.0.0.1 -p "$PG_PORT" -U lls -d postgres -qc "CREATE DATABASE loveloveshot"
  fi
}

postgres_down() {
  local bin data
  bin=$(pg_bin); [ -f "$P/pgdata-path" ] || return 0
  data=$(cat "$P/pgdata-path")
  [ -n "$bin" ] && [ -f "$data/PG_VERSION" ] || return 0
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "stopping PostgreSQL"
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
}

redis_up() {
  alive "$RUN/redis.pid" && return
  say "Redis on 127.0.0.1:$REDIS_PORT (appendonly)"
  mkdir -p "$P/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$P/redis" --appendonly yes --appendfsync everysec \
    --save "" --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$LOG/redis.log"
  for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  say "redis did not start"; exit 1
}

write_env() {
  local key pw
  key=$(secret django-secret-key 50); pw=$(secret pg-password)
  cat >"$P/env" <<ENV
DJANGO_SETTINGS_MODULE=loveloveshot.settings.production
DJANGO_SECRET_KEY=$key
DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
DJANGO_CSRF_TRUSTED_ORIGINS=http://127.0.0.1:$HTTP_PORT,http://localhost:$HTTP_PORT
DATABASE_URL=postgres://lls:$pw@127.0.0.1:$PG_PORT/loveloveshot
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
DJANGO_STATIC_ROOT=$P/static
LLS_VAR_DIR=$P/data
LLS_MEDIA_BACKEND=local
PRIVATE_MEDIA_ACCEL_PREFIX=/protected/
LLS_PRIVATE_MEDIA_GROUP=$(is_root && echo www-data)
DJANGO_SECURE_SSL_REDIRECT=0
LLS_INSECURE_COOKIES_FOR_LOOPBACK=1
EMAIL_URL=file://$P/mail
DEFAULT_FROM_EMAIL=noreply@localhost
PROD_HTTP_PORT=$HTTP_PORT
PROD_WEB_PORTS="$WEB_PORTS"
PROD_LOG_DIR=$LOG
PYTHONUNBUFFERED=1
ENV
  chmod 600 "$P/env"
}

rq_queue_defined() {  # rq_queue_defined NAME: the settings define that rq queue
  $PY -c "import sys; from django.conf import settings; sys.exit('$1' not in settings.RQ_QUEUES)" 2>/dev/null
}

start() {  # start NAME CMD...: a detached process, its pid in run/NAME.pid, its output in log/NAME.log
  local name=$1; shift
  setsid "$@" >"$LOG/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

stop_pid() {  # stop_pid FILE [SIGNAL]: signal, wait up to 30 s, then KILL
  local file=$1 sig=${2:-TERM} pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

nginx_conf() {
  local user_line="" upstreams=""
  mkdir -p "$P/nginx/tmp"
  if is_root; then user_line="user www-data;"; chown www-data: "$P/nginx/tmp"; fi
  for port in $WEB_PORTS; do upstreams+="127.0.0.1:$port "; done
  NGINX_UPSTREAMS=$upstreams NGINX_SERVER_NAME="127.0.0.1 localhost" NGINX_LISTEN="127.0.0.1:$HTTP_PORT" \
    STATIC_ROOT=$P/static PRIVATE_MEDIA_ROOT=$P/data/private NGINX_LOG_DIR=$LOG \
    bash scripts/prod_nginx_conf.sh >"$P/nginx/site.conf"
  cat >"$P/nginx/nginx.conf" <<CONF
# Generated by scripts/prod_local.sh — loopback only.
$user_line
worker_processes 2;
pid $RUN/nginx.pid;
error_log $LOG/nginx.error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $P/nginx/tmp/body;
    proxy_temp_path $P/nginx/tmp/proxy;
    fastcgi_temp_path $P/nginx/tmp/fastcgi;
    uwsgi_temp_path $P/nginx/tmp/uwsgi;
    scgi_temp_path $P/nginx/tmp/scgi;
    include $P/nginx/site.conf;
}
CONF
}

wait_http() {  # wait_http URL NAME PIDFILE
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    if [ -n "${3:-}" ] && ! alive "$3"; then say "$2 exited:"; tail -n 30 "$LOG/$2.log"; exit 1; fi
    sleep 0.1
  done
  say "$2 did not answer at $1"; exit 1
}

app_down() {
  if [ -f "$RUN/nginx.pid" ]; then stop_pid "$RUN/nginx.pid" QUIT; fi
  for f in "$RUN"/web-*.pid "$RUN"/worker-*.pid "$RUN"/scheduler.pid; do
    [ -e "$f" ] && stop_pid "$f" TERM
  done
  return 0
}

up() {
  system_packages
  python_packages
  mkdir -p "$RUN" "$LOG" "$P/data/private" "$P/static"
  app_down
  postgres_up
  redis_up
  write_env
  set -a; . "$P/env"; set +a
  say "migrate, collectstatic, demo data"
  $PY manage.py migrate --noinput -v0
  $PY manage.py collectstatic --noinput -v0
  $PY manage.py seed_demo --allow-production >"$LOG/seed.log"  # loopback-only stack: allowed
  local i=0
  for port in $WEB_PORTS; do
    i=$((i + 1))
    : >"$LOG/web-$i.access.log"
    start "web-$i" $PY -m daphne --proxy-headers -b 127.0.0.1 -p "$port" \
      --access-log "$LOG/web-$i.access.log" loveloveshot.asgi:application
  done
  for i in $(seq "$WORKERS"); do
    start "worker-$i" $PY manage.py gpu_worker --queues swap --name "prod-local-worker-$i-$$"
  done
  # The light queues, each with its own worker (pid files worker-*.pid, stopped with the others):
  # photo checks (gpu_worker/checks.py) and partner webhooks (retries need rq's scheduler).
  if rq_queue_defined check; then
    start worker-check $PY manage.py gpu_worker --queues check --no-sweep --name "prod-local-check-$$"
  fi
  if rq_queue_defined webhooks; then
    start worker-webhooks $PY manage.py rqworker webhooks --with-scheduler
  fi
  start scheduler $PY deploy/rq_scheduler.py swap
  i=0
  for port in $WEB_PORTS; do i=$((i + 1)); wait_http "http://127.0.0.1:$port/" "web-$i" "$RUN/web-$i.pid"; done
  nginx_conf
  nginx -t -q -p "$P/nginx/" -c "$P/nginx/nginx.conf"
  nginx -p "$P/nginx/" -c "$P/nginx/nginx.conf"
  local css; css=$(cd "$P/static" && find . -name '*.css' -type f | head -n 1)
  [ -z "$css" ] || wait_http "http://127.0.0.1:$HTTP_PORT/static/${css#./}" nginx ""
  wait_http "http://127.0.0.1:$HTTP_PORT/" nginx ""
  # The access logs count requests from the smoke test on: start them empty.
  i=0; for port in $WEB_PORTS; do i=$((i + 1)); : >"$LOG/web-$i.access.log"; done
  cat <<MSG

  LoveLoveShot (production settings, loopback) is up:  http://127.0.0.1:$HTTP_PORT/
  nginx → daphne on $WEB_PORTS · $WORKERS gpu_worker on rq queue "swap" · rq scheduler
  PostgreSQL 127.0.0.1:$PG_PORT · Redis 127.0.0.1:$REDIS_PORT (appendonly)
  Demo login: demo@loveloveshot.kr / lovelove-demo-2026 · env: $P/env · logs: $LOG/
  Stop with: make prod-stop

MSG
}

down() {
  app_down
  if [ -f "$RUN/redis.pid" ]; then
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    stop_pid "$RUN/redis.pid" TERM
  fi
  postgres_down
  say "stopped"
}

status() {
  local ok=0
  for f in "$RUN"/nginx.pid "$RUN"/redis.pid "$RUN"/web-*.pid "$RUN"/worker-*.pid "$RUN"/scheduler.pid; do
    if alive "$f"; then echo "up    $(basename "$f" .pid) (pid $(cat "$f"))"; else echo "down  $(basename "$f" .pid)"; ok=1; fi
  done
  if [ -f "$P/pgdata-path" ] && as_pg "$(pg_bin)/pg_ctl" -D "$(cat "$P/pgdata-path")" status >/dev/null 2>&1; then
    echo "up    postgres"
  else
    echo "down  postgres"; ok=1
  fi
  return $ok
}

case "${1:-up}" in
  up) up ;;
  down | stop) down ;;
  purge)
    down
    if [ -f "$P/pgdata-path" ]; then rm -rf "$(cat "$P/pgdata-path")"; fi
    rm -rf "$P"
    ;;
  status) status ;;
  database-url) sed -n 's/^DATABASE_URL=//p' "$P/env" ;;  # for CI's PostgreSQL test run
  *) echo "usage: $0 up|down|purge|status|database-url" >&2; exit 2 ;;
esac
