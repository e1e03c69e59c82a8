#!/usr/bin/env bash
# Set up (once) and run the whole test suite: creates .venv and installs the project with its test extra
# (again only after pyproject.toml changes). Arguments go to pytest. PYTHON picks the interpreter
# (default python3), VENV the folder (default .venv): CI runs it once per end of requires-python.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv test
echo "tests on $("$VENV/bin/python" -V) in $VENV" >&2
QT_QPA_PLATFORM=offscreen "$VENV/bin/python" -m pytest -q "$@"
