"""What "the window fits" means, checked on a live MainWindow: used by test_layout_fits.py.

A state fits when the window's minimum size plus window-manager decorations fits a 1280×720 screen and,
at that size, on every tab: no visible widget reaches past the window, no scroll area without a
horizontal scroll bar is narrower than its content, and no one-line label is cut (its text wider than
the label while it is not elided)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QLabel, QScrollArea, QWidget

from tests.gui.conftest import save_shot

SCREEN = QSize(1280, 720)
DECORATIONS = QSize(16, 48)  # a title bar and borders (openbox: 4 + 4 wide, about 26 + 4 high), with room to spare
AVAILABLE = SCREEN - DECORATIONS


def _in_scrolled_content(widget: QWidget, window: QWidget) -> bool:
    """Inside a scroll area's viewport: it may lie outside what is visible (the user scrolls to it)."""
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent.parentWidget(), QAbstractScrollArea) and parent is parent.parentWidget().viewport():
            return True
        parent = parent.parentWidget()
    return False


def _name(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QLabel) else ""
    name = widget.objectName()
    return f"{type(widget).__name__}{'#' + name if name else ''}{' ' + repr(text[:60]) if text else ''}"


def is_elided(label: QLabel) -> bool:
    """An eliding label (widgets/message_label.ElidedLabel) that shows '…' and its full text on hover."""
    return bool(label.property("elided"))


def problems(window: QWidget) -> list[str]:
    """What is wrong with the window as it is laid out now (the current tab only)."""
    QApplication.processEvents()
    found: list[str] = []
    frame = window.rect()
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.isWindow():
            continue
        if not _in_scrolled_content(widget, window):
            rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
            if not frame.contains(rect):
                found.append(f"{_name(widget)} reaches past the window: {rect.getRect()} in {frame.getRect()}")
        if isinstance(widget, QScrollArea) and widget.widget() is not None \
                and widget.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff \
                and widget.widget().width() > widget.viewport().width():
            found.append(f"{_name(widget.widget())} is cut by its scroll area: {widget.widget().width()} px in "
                         f"{widget.viewport().width()} px, with no horizontal scroll bar")
        if isinstance(widget, QLabel) and not widget.wordWrap() and widget.text() and not is_elided(widget) \
                and widget.sizeHint().width() > widget.width() + 1:
            found.append(f"{_name(widget)} is cut: needs {widget.sizeHint().width()} px, has {widget.width()}")
    return found


def _size(size: QSize) -> str:
    return f"{size.width()}×{size.height()}"


def _widest(window: QWidget, count: int = 4) -> list[str]:
    """The innermost widgets asking for the most width: where to look when the window is too wide."""
    sizes = [(w.minimumSizeHint().width(), _name(w)) for w in window.findChildren(QWidget)
             if not w.isWindow() and not w.findChildren(QWidget) and w.minimumSizeHint().width() > 0]
    return [f"{name} {width} px" for width, name in sorted(sizes, reverse=True)[:count]]


def fit_problems(window, state: str) -> list[str]:
    """Every tab of ``window`` (a MainWindow) in ``state``, at the size a 1280×720 screen leaves it."""
    hint = window.minimumSizeHint()
    found = []
    if hint.width() > AVAILABLE.width() or hint.height() > AVAILABLE.height():
        parts = ", ".join(f"{window.tabs.tabText(i)} {_size(window.tabs.widget(i).minimumSizeHint())}"
                          for i in range(window.tabs.count()))
        found.append(f"{state}: the window needs at least {_size(hint)} px, more than the {_size(AVAILABLE)} a "
                     f"{_size(SCREEN)} screen leaves (form {_size(window.splitter.widget(0).minimumSizeHint())}, "
                     f"tabs: {parts}; widest: {', '.join(_widest(window))})")
    window.resize(AVAILABLE)
    current = window.tabs.currentIndex()
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        found += [f"{state}, {window.tabs.tabText(i)} tab: {p}" for p in problems(window)]
        slug = "".join(c if c.isalnum() else "-" for c in state.lower())
        save_shot(window, f"layout-{slug}-{i + 1}-{window.tabs.tabText(i).lower()}.png")  # for a human look
    window.tabs.setCurrentIndex(current)
    return found
