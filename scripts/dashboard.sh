#!/usr/bin/env bash
# Set up (first run only) and launch the dashboard on the embedded default data.
# The dashboard keeps this terminal (its log appears here) until Ctrl+C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PORT=${PORT:-8501}
echo "GridPlan: starting the dashboard: open http://localhost:$PORT in a browser."
echo "          This terminal stays busy while the dashboard runs; press Ctrl+C here to stop it."
# ui.serve is `streamlit run app.py` with the libraries imported while the server starts
exec .venv/bin/python -m ui.serve --server.port "$PORT" "$@"
