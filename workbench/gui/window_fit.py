"""The window's size and place on the screen: a first size that fits the screen, a saved geometry restored
only as far as the screen has room, and an oversized geometry never saved."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, QSettings, QSize
from PySide6.QtWidgets import QWidget

from workbench.gui.settings import SettingsReader

GEOMETRY_KEY = "window/geometry"
FIRST_SIZE = QSize(1400, 900)  # on a screen with room for it; smaller screens get what they have
DECORATIONS = QSize(16, 48)  # a window manager's title bar and borders, which the frame adds to the window


def available(window: QWidget) -> QRect:
    """The part of the window's screen that windows may use (without panels and docks)."""
    screen = window.screen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 720)


def room(window: QWidget) -> QSize:
    """The largest window (without its frame) that fits the screen with its decorations."""
    space = available(window).size()
    frame = window.frameGeometry().size() - window.geometry().size() if window.isVisible() else DECORATIONS
    frame = frame.expandedTo(QSize(0, 0))
    return QSize(max(1, space.width() - frame.width()), max(1, space.height() - frame.height()))


def fit_to_screen(window: QWidget, wanted: QSize = FIRST_SIZE) -> None:
    """Resize to ``wanted``, or to what the screen has room for; moved back onto the screen if it was off."""
    window.resize(wanted.boundedTo(room(window)).expandedTo(window.minimumSizeHint().boundedTo(room(window))))
    space = available(window)
    geometry = window.frameGeometry()
    if not space.contains(geometry):
        x = min(max(geometry.x(), space.x()), max(space.x(), space.right() - geometry.width() + 1))
        y = min(max(geometry.y(), space.y()), max(space.y(), space.bottom() - geometry.height() + 1))
        window.move(x, y)


def restore_geometry(window: QWidget, settings: QSettings, reader: SettingsReader) -> None:
    """The saved size and place, fitted to this screen (saved on a bigger one, or by an older version
    that let the window grow past the screen); the first size when none was saved."""
    geometry = settings.value(GEOMETRY_KEY)
    if isinstance(geometry, QByteArray) and not geometry.isEmpty() and window.restoreGeometry(geometry):
        fit_to_screen(window, window.size())
        return
    if geometry is not None:
        reader.reject(GEOMETRY_KEY)
    fit_to_screen(window)


def save_geometry(window: QWidget, settings: QSettings) -> None:
    """Save the window's geometry, unless it is larger than the screen (then the next start begins at the
    first size again, instead of past the screen's edge)."""
    if available(window).size().boundedTo(window.frameGeometry().size()) == window.frameGeometry().size():
        settings.setValue(GEOMETRY_KEY, window.saveGeometry())
    else:
        settings.remove(GEOMETRY_KEY)
