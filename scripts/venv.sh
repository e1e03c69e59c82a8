# Sourced by run.sh and test.sh: make sure a virtual environment with the workbench installed exists.
#
# Installs only when the environment is missing or pyproject.toml or setup.py changed since the last install
# (a stamp in the environment holds their hash), so a launch after the first needs no network.
# PYTHON picks the interpreter (default python3), VENV the folder (default .venv).

PY=${PYTHON:-python3}
VENV=${VENV:-.venv}

_install_digest() {  # what an install depends on: pyproject.toml and setup.py (the resources/ mapping)
    cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1
}

_stamp_matches() {  # $1: a stamp name; true when it records the current pyproject.toml and setup.py
    [ "$(cat "$VENV/.workbench-installed-$1" 2>/dev/null)" = "$(_install_digest)" ]
}

ensure_venv() {  # $1: "app" (the workbench) or "test" (the workbench and its test extra)
    local kind=$1 target=.
    [ "$kind" = test ] && target=".[test]"
    if [ -x "$VENV/bin/python" ] && { _stamp_matches test || { [ "$kind" = app ] && _stamp_matches app; }; }; then
        return 0
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PY" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null; then
            echo "error: the workbench needs Python 3.11 to 3.13, and $PY is $("$PY" -V 2>&1 || echo 'not found'); set PYTHON=/path/to/python3.X." >&2
            exit 1
        fi
        if ! "$PY" -c 'import ensurepip' 2>/dev/null; then
            echo "error: $PY cannot create a virtual environment (its ensurepip module is missing); on Debian/Ubuntu install it with \`sudo apt install python3-venv\`." >&2
            exit 1
        fi
        "$PY" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e "$target"
    rm -f "$VENV"/.workbench-installed-*  # an older install's stamps no longer describe what is there
    _install_digest > "$VENV/.workbench-installed-$kind"
}
