#!/usr/bin/env bash
# Renders deploy/nginx/loveloveshot.conf.in to stdout.
#   NGINX_UPSTREAMS="127.0.0.1:8001 127.0.0.1:8002"  daphne instances (host:port, space-separated)
#   NGINX_SERVER_NAME=photo.example.kr  STATIC_ROOT=/srv/loveloveshot/staticfiles
#   PRIVATE_MEDIA_ROOT=/srv/loveloveshot/var/private  NGINX_LOG_DIR=/var/log/nginx
#   NGINX_LISTEN=tls (default: 443 ssl + a port-80 redirect; certificate paths from NGINX_TLS_CERT /
#   NGINX_TLS_KEY) or NGINX_LISTEN=127.0.0.1:8080 (plain HTTP: loopback only, used by prod_local.sh)
# Example: sudo NGINX_SERVER_NAME=photo.example.kr bash scripts/prod_nginx_conf.sh \
#            > /etc/nginx/sites-available/loveloveshot && sudo nginx -t && sudo systemctl reload nginx
set -euo pipefail
cd "$(dirname "$0")/.."
: "${NGINX_UPSTREAMS:=127.0.0.1:8001 127.0.0.1:8002}"
: "${NGINX_SERVER_NAME:=_}"
: "${STATIC_ROOT:=/srv/loveloveshot/staticfiles}"
: "${PRIVATE_MEDIA_ROOT:=/srv/loveloveshot/var/private}"
: "${NGINX_LOG_DIR:=/var/log/nginx}"
: "${NGINX_LISTEN:=tls}"
: "${NGINX_TLS_CERT:=/etc/letsencrypt/live/$NGINX_SERVER_NAME/fullchain.pem}"
: "${NGINX_TLS_KEY:=/etc/letsencrypt/live/$NGINX_SERVER_NAME/privkey.pem}"
export NGINX_SERVER_NAME STATIC_ROOT PRIVATE_MEDIA_ROOT NGINX_LOG_DIR

upstreams=""
for u in $NGINX_UPSTREAMS; do upstreams+="    server $u max_fails=3 fail_timeout=10s;"$'\n'; done
if [ "$NGINX_LISTEN" = "tls" ]; then
  listen="    listen 443 ssl http2;
    listen [::]:443 ssl http2;
    ssl_certificate $NGINX_TLS_CERT;
    ssl_certificate_key $NGINX_TLS_KEY;
    ssl_protocols TLSv1.2 TLSv1.3;"
  extra="server {
    listen 80;
    listen [::]:80;
    server_name $NGINX_SERVER_NAME;
    return 301 https://\$host\$request_uri;
}"
else
  listen="    listen $NGINX_LISTEN;"
  extra=""
fi

python3 - "$upstreams" "$listen" "$extra" <<'PY'
import os, runpy, sys
upstreams, listen, extra = sys.argv[1:4]
text = open("deploy/nginx/loveloveshot.conf.in").read()
values = {
    "UPSTREAM_SERVERS": upstreams.rstrip("\n"),
    "LISTEN": listen,
    "EXTRA_SERVERS": extra,
    "SERVER_NAME": os.environ["NGINX_SERVER_NAME"],
    "STATIC_ROOT": os.environ["STATIC_ROOT"].rstrip("/"),
    "PRIVATE_MEDIA_ROOT": os.environ["PRIVATE_MEDIA_ROOT"].rstrip("/"),
    "LOG_DIR": os.environ["NGINX_LOG_DIR"],
    # the one request-body limit (Django refuses the same number with 413)
    "MAX_BODY_BYTES": str(runpy.run_path("loveloveshot/limits.py")["UPLOAD_MAX_REQUEST_BYTES"]),
}
for key, value in values.items():
    text = text.replace(f"@@{key}@@", value)
assert "@@" not in text, "unrendered placeholder"
sys.stdout.write(text)
PY
