"""A row of buttons and fields that wraps onto a second line when the tab is narrow (Qt's flow layout
example), so a toolbar never sets the window's minimum width: only its widest item does."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget, QWidgetItem


class FlowRow(QLayout):
    """Items left to right, wrapping to the next line when the width runs out; ``addSpacing`` and
    ``addStretch`` of QHBoxLayout become a gap before the next item (a stretch pushes nothing: it wraps)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gaps: dict[int, int] = {}  # item index -> extra space before it
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    # QHBoxLayout's way of being filled
    def addWidget(self, widget: QWidget, stretch: int = 0) -> None:  # noqa: N802 - Qt name
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))

    def addSpacing(self, size: int) -> None:  # noqa: N802 - Qt name
        self._gaps[len(self._items)] = self._gaps.get(len(self._items), 0) + size

    def addStretch(self, _stretch: int = 0) -> None:  # noqa: N802 - Qt name
        self.addSpacing(12)

    # QLayout
    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt name
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt name
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt name
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt name
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt name
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt name
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        width = sum(i.sizeHint().width() for i in self._visible()) + self.spacing() * max(0, len(self._visible()) - 1)
        height = max((i.sizeHint().height() for i in self._visible()), default=0)
        m = self.contentsMargins()
        return QSize(width + sum(self._gaps.values()) + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt name
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _visible(self) -> list[QLayoutItem]:
        return [i for i in self._items if not i.isEmpty()]

    def _place(self, rect: QRect, move: bool) -> int:
        """Lay the items out in ``rect`` (only measure unless ``move``); returns the height used."""
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line = area.x(), area.y(), 0
        for index, item in enumerate(self._items):
            if item.isEmpty():
                continue
            hint = item.sizeHint().boundedTo(QSize(area.width(), 1 << 20)).expandedTo(item.minimumSize())
            gap = self._gaps.get(index, 0) if x > area.x() else 0
            if x > area.x() and x + gap + hint.width() > area.right() + 1:
                x, y, line, gap = area.x(), y + line + self.spacing(), 0, 0
            x += gap
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self.spacing()
            line = max(line, hint.height())
        return y + line - rect.y() + m.bottom()
