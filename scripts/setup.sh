#!/usr/bin/env bash
# Idempotent set-up on Debian with Python 3.11: system packages, virtual environment, project.
#   scripts/setup.sh          runtime (dashboard)
#   scripts/setup.sh --dev    runtime + test tools + the browser for end-to-end tests
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=0; [ "${1:-}" = "--dev" ] && DEV=1
PY=${PYTHON:-python3.11}; command -v "$PY" >/dev/null || PY=python3

# System packages: a CJK font for the PNG map (fonts-noto-cjk); Debian's chromium for e2e tests.
APT_PKGS="fonts-noto-cjk"; [ $DEV = 1 ] && APT_PKGS="$APT_PKGS chromium"
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
    echo "setup: installing system packages:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "setup: warning: cannot install$missing (no apt-get); PNG export needs a CJK font" >&2
  fi
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
REQ=requirements.txt; [ $DEV = 1 ] && REQ=requirements-dev.txt
stamp=.venv/.gridplan-$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -c1-16)-$DEV
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$REQ"
  touch "$stamp"
fi
