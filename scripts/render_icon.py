"""Render resources/cifar-workbench.svg to the PNG sizes the window icon and icon themes use.

Run after editing the SVG: `PYTHONPATH=. QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/render_icon.py
[OUT_FOLDER]` (default: resources/, beside the SVG). Qt's own SVG renderer draws them, as the window would.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from workbench.gui.resources import ICON_NAME, ICON_SIZES

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else RESOURCES
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (painting needs one)
    renderer = QSvgRenderer(str(RESOURCES / f"{ICON_NAME}.svg"))
    if not renderer.isValid():
        print("error: resources/cifar-workbench.svg is not a valid SVG.", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out / f"{ICON_NAME}-{size}.png"
        if not image.save(str(path)):
            print(f"error: {path} could not be written.", file=sys.stderr)
            return 1
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
