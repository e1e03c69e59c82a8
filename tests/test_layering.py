"""The architecture rules of docs/DESIGN.md, checked on the real import graph."""

import subprocess
import sys
from pathlib import Path

import pytest


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "module",
    [
        "workbench.core.datasets",
        "workbench.core.architectures",
        "workbench.core.training",
        "workbench.core.modelio",
        "workbench.core.runs",
        "workbench.cli",
    ],
)
def test_core_imports_neither_qt_nor_tensorflow(module):
    loaded = _modules_after(f"import {module}")
    assert not loaded & {"PySide6", "pyqtgraph", "shiboken6"}, f"{module} pulled in Qt"
    assert not loaded & {"tensorflow", "keras", "tf_keras"}, f"{module} imported TensorFlow eagerly"


def test_import_contracts_hold():
    """import-linter: the core never imports Qt; the GUI never imports TensorFlow/Keras directly."""
    root = Path(__file__).resolve().parents[1]
    linter = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(linter), "--no-cache"], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
