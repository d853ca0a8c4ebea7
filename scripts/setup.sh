#!/usr/bin/env bash
# Idempotent set-up on Debian with Python 3.11: system packages, virtual environment, project.
#   scripts/setup.sh          runtime (dashboard)
#   scripts/setup.sh --dev    runtime + test tools + the browser for end-to-end tests
# Each step says what it does.  When another package manager holds the apt/dpkg lock (an
# automatic update on a fresh machine), the set-up waits for it, saying so, instead of failing.
# Overridable (tests use them): GRIDPLAN_APT_LOCKS (lock files), GRIDPLAN_APT_LOCK_WAIT (most
# seconds to wait, 1200), GRIDPLAN_APT_LOCK_POLL (seconds between looks, 5).
set -euo pipefail

APT_LOCKS=${GRIDPLAN_APT_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock}
APT_LOCK_WAIT=${GRIDPLAN_APT_LOCK_WAIT:-1200}
APT_LOCK_POLL=${GRIDPLAN_APT_LOCK_POLL:-5}

step() { echo "setup [$1/3] $2"; }

# Whether a process holds a lock on file $1.  /proc/locks lists every lock of the machine
# (dpkg's and apt's fcntl locks, flock locks) by device and inode, readable without root,
# so no sudo prompt and no extra package (fuser) are needed to look.
lock_held() {
  [ -e "$1" ] && [ -r /proc/locks ] || return 1
  local dev ino maj min
  read -r dev ino < <(stat -L -c '%D %i' "$1")
  dev=$((16#$dev))
  maj=$(((dev >> 8) & 0xfff))
  min=$(((dev & 0xff) | ((dev >> 12) & 0xfff00)))
  grep -q -E " $(printf '%02x:%02x' "$maj" "$min"):$ino " /proc/locks
}

held_apt_lock() {
  local f
  for f in $APT_LOCKS; do
    if lock_held "$f"; then echo "$f"; return 0; fi
  done
  return 1
}

# Wait until no apt/dpkg lock is held; give up after APT_LOCK_WAIT seconds with what to do.
wait_for_apt_lock() {
  local lock start now said=-1
  start=$SECONDS
  while lock=$(held_apt_lock); do
    now=$((SECONDS - start))
    if [ "$now" -ge "$APT_LOCK_WAIT" ]; then
      echo "setup: $lock is still held after ${now} s. Another package manager (apt, dpkg," \
        "unattended-upgrades) is running: let it finish (see: ps -ef | grep -E 'apt|dpkg')," \
        "then run this command again." >&2
      return 1
    fi
    if [ "$said" -lt 0 ]; then
      echo "setup: waiting for another package manager to finish: it holds $lock (often the" \
        "machine's automatic update after its first start). Waiting at most ${APT_LOCK_WAIT} s ..."
      said=$now
    elif [ $((now - said)) -ge 30 ]; then
      echo "setup: still waiting for $lock (${now} s) ..."
      said=$now
    fi
    sleep "$APT_LOCK_POLL"
  done
  [ "$said" -lt 0 ] || echo "setup: the package manager has finished; going on"
}

install_system_packages() {
  local apt_pkgs missing="" p sudo=""
  # the PDF report: Pango lays out its text (WeasyPrint)
  apt_pkgs="fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0"
  # the tests: chromium for the end-to-end runs, postgresql for the store's PostgreSQL runs,
  # poppler-utils (pdftotext, pdffonts, pdftoppm) to read the PDF report back
  [ "$DEV" = 1 ] && apt_pkgs="$apt_pkgs chromium postgresql poppler-utils"
  step 1 "system packages: $apt_pkgs"
  for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -z "$missing" ]; then
    echo "        already installed"
    return 0
  fi
  if ! command -v apt-get >/dev/null; then
    echo "setup: warning: cannot install$missing (no apt-get); PNG export needs a CJK font" >&2
    return 0
  fi
  [ "$(id -u)" != 0 ] && sudo="sudo"
  wait_for_apt_lock
  # apt itself also waits (a lock taken between our look and its start), up to the same time
  local apt=($sudo apt-get -o "DPkg::Lock::Timeout=$APT_LOCK_WAIT")
  echo "        updating the package lists (apt-get update) ..."
  "${apt[@]}" update -qq
  echo "        installing$missing (a few hundred MB on a fresh machine; may take minutes) ..."
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends $missing >/dev/null
  echo "        done"
}

make_environment() {
  step 2 "Python environment: .venv"
  if [ -x .venv/bin/python ]; then
    echo "        already there"
  else
    echo "        creating .venv with $PY ..."
    "$PY" -m venv .venv
  fi
}

install_project() {
  local req=requirements.txt stamp
  [ "$DEV" = 1 ] && req=requirements-dev.txt
  step 3 "GridPlan and its Python packages ($req)"
  stamp=.venv/.gridplan-$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -c1-16)-$DEV
  if [ -f "$stamp" ]; then
    echo "        up to date"
    return 0
  fi
  echo "        installing with pip (the first time downloads a few hundred MB; may take minutes) ..."
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$req"
  touch "$stamp"
  echo "        done"
}

main() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  DEV=0
  [ "${1:-}" = "--dev" ] && DEV=1
  PY=${PYTHON:-python3.11}
  command -v "$PY" >/dev/null || PY=python3
  install_system_packages
  make_environment
  install_project
  echo "setup: ready"
}

# sourced (the tests call the functions above), it only defines them
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
