"""Tests of the GUI's Qt-free models (what a panel shows, a form's settings): no QApplication, no qtbot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def qt_modules_after_import(module: str) -> list[str]:
    """The Qt modules a fresh interpreter holds after importing ``module`` (and nothing else)."""
    code = (f"import sys, {module}\n"
            "print(' '.join(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()
