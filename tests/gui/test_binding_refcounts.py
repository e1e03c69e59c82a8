"""Guards the PySide6 pin: 6.12.0 on Python 3.11 loses a reference to None on every void call.

That bug aborts the process ("Fatal Python error: none_dealloc") after a few minutes of plotting,
so pyproject.toml excludes it; this test fails if such a build is installed again.
"""

import sys

from PySide6.QtGui import QPen
from PySide6.QtWidgets import QLabel


def test_void_qt_calls_keep_none_alive(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    pen = QPen()
    before = sys.getrefcount(None)
    for _ in range(500):
        label.setText("x")
        pen.setWidth(2)
    assert sys.getrefcount(None) - before > -100
