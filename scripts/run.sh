#!/usr/bin/env bash
# Set up (once) and open the workbench: creates .venv, installs the project, runs main.py with any arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/python main.py "$@"
