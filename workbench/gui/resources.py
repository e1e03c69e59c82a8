"""The app's bundled files: the window's style sheet and icon, from the repository's top-level `resources/`.

The build maps that folder to the package `workbench.resources` (`setup.py`), so a wheel and an editable
install both reach it through importlib.resources. A checkout run in place without installing
(`PYTHONPATH=. python main.py`) has no such package and reads the folder beside `workbench/`.
The same folder holds `cifar-workbench.desktop`, the desktop entry whose Icon= is ICON_NAME.
"""

from __future__ import annotations

import sys
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_NAME = "cifar-workbench"  # the desktop entry's file name and Icon=, and the icon files' stem
ICON_SIZES = (48, 128, 256)  # PNGs rendered from the SVG, for Qt builds without the SVG image plugin


def _folder() -> Traversable:
    try:
        return resources.files("workbench.resources")
    except ModuleNotFoundError:  # a source checkout on sys.path, not installed
        return Path(__file__).resolve().parents[2] / "resources"


FOLDER = _folder()
STYLESHEET = FOLDER / "style.qss"
# PNGs first: Qt then keeps each at its size (availableSizes) and fills other sizes from the SVG
ICON_FILES = (*(FOLDER / f"{ICON_NAME}-{size}.png" for size in ICON_SIZES), FOLDER / f"{ICON_NAME}.svg")


def stylesheet() -> str:
    """The window's style sheet; a missing or unreadable one is said on stderr (the window then looks plain)."""
    try:
        return STYLESHEET.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(
            f"warning: the workbench style sheet {STYLESHEET} could not be read ({type(exc).__name__}), "
            "so the window uses Qt's plain style; reinstall the workbench (`pip install .`) to restore it.",
            file=sys.stderr,
        )
        return ""


def app_icon() -> QIcon:
    """The application icon from every icon file there is (Qt picks the size); null if none could be read."""
    icon = QIcon()
    for path in ICON_FILES:
        if path.is_file():
            icon.addFile(str(path))
    return icon
