#!/usr/bin/env bash
# Set up (first run only) and run every check: ruff (lint + format), mypy, the whole pytest suite
# (unit tests, AppTests of every page, Playwright end-to-end tests in Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
