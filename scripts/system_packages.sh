#!/usr/bin/env bash
# Installs the Debian packages the product and its tests need, when they are missing.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ "${1:-}" = "--with-browser" ] && { [ -x /usr/bin/chromium ] || need+=(chromium fonts-noto-cjk); }
if ((${#need[@]})); then
  echo "Installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
