#!/usr/bin/env bash
# Set up (once) and open the workbench: creates .venv and installs the project the first time (and again
# only after pyproject.toml changes), then runs main.py with any arguments. PYTHON and VENV as in venv.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv app
exec "$VENV/bin/python" main.py "$@"
