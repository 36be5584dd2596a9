#!/usr/bin/env bash
# Installs the Debian packages the product and its tests need, when they are missing.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# --with-browser: what `make test` needs besides redis: Debian chromium (+ CJK fonts) for the e2e tests and
# nginx for the edge tests (tests/integration/test_hardening_nginx.py renders the production config).
if [ "${1:-}" = "--with-browser" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium fonts-noto-cjk)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
fi
if ((${#need[@]})); then
  echo "Installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
