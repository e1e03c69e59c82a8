"""Application entry: ``main()`` creates the QApplication and shows the MainWindow.

TensorFlow is not imported here: the window is on screen before any worker loads it.
"""

from __future__ import annotations

import sys
from typing import Sequence

from workbench.gui.qt_app import application

__all__ = ["application", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    app = application(argv)
    from workbench.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
