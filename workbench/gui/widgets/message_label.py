"""Labels for messages of any length that never widen their window: ``MessageLabel`` wraps (for a panel's
error or status line), ``ElidedLabel`` stays one line and ends in '…' (for the status bar). Both show the
full text on hover."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

# A message asks for no more width than this; wider space is used when the layout has it to give.
MIN_WIDTH = 120
HINT_WIDTH = 360


def plain_text(text: str) -> str:
    """The words of ``text`` without markup (a label's rich text, for a tooltip)."""
    return QTextDocumentFragment.fromHtml(text).toPlainText() if "<" in text else text


class MessageLabel(QLabel):
    """A wrapped message: as tall as its text needs at the width it is given, never a reason for a
    wider window (a word longer than the label is cut, not the layout); the full text is its tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        policy = self.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Preferred)
        self.setSizePolicy(policy)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt name
        super().setText(text)
        self.setToolTip(plain_text(text))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), MIN_WIDTH), hint.height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        hint = super().sizeHint()
        width = min(hint.width(), HINT_WIDTH)
        return QSize(width, max(hint.height(), self.heightForWidth(width)))


class ElidedLabel(QLabel):
    """One line of plain text, ended with '…' when it does not fit; ``text()`` is the whole text, which is
    also the tooltip while it is cut. The ``elided`` property says whether it is."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt name
        self._full = " ".join(str(text).split())  # one line: a message's line breaks become spaces
        self._elide()

    def text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right() + 2
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(min(self.sizeHint().width(), MIN_WIDTH), super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = max(0, self.contentsRect().width() - 2)
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        elided = shown != self._full
        super().setText(shown)
        self.setProperty("elided", elided)
        self.setToolTip(self._full if elided else "")
