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


def _frame_margins(window: QWidget) -> tuple[int, int, int, int]:
    """Left, top, right and bottom of the window manager's frame: measured once shown, assumed before."""
    if window.isVisible():
        frame, inside = window.frameGeometry(), window.geometry()
        return (inside.left() - frame.left(), inside.top() - frame.top(), frame.right() - inside.right(),
                frame.bottom() - inside.bottom())
    side = DECORATIONS.width() // 2
    return side, DECORATIONS.height() - side, side, side


def fit_to_screen(window: QWidget, wanted: QSize = FIRST_SIZE) -> None:
    """Resize to ``wanted``, or as far as the screen has room with the frame; moved onto the screen if it was
    (partly) off it. Never below the window's own minimum size, which the layouts keep within 1280×720."""
    left, top, right, bottom = _frame_margins(window)
    inner = available(window).adjusted(left, top, -right, -bottom)
    window.resize(wanted.boundedTo(inner.size()))
    inside = window.geometry()
    x = min(max(inside.x(), inner.x()), max(inner.x(), inner.right() - inside.width() + 1))
    y = min(max(inside.y(), inner.y()), max(inner.y(), inner.bottom() - inside.height() + 1))
    if (x, y) != (inside.x(), inside.y()):
        window.move(x - left, y - top)  # a window's position is its frame's


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
