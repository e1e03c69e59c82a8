"""The progress bar's text reads at every fill: with the window's style sheet, the words change as many
pixels clearly over a part-filled bar as over an empty one (none of it white on white)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage, qGray
from PySide6.QtWidgets import QProgressBar

from workbench.gui.resources import stylesheet

TEXT = "epoch 6/15 · batch 40/79"
CONTRAST = 60  # grey levels (of 255) between a letter's pixel and the bar under it


def _changed_pixels(value: int) -> int:
    """How many pixels the text changes clearly (in grey level) on a bar filled to ``value`` of 1000."""
    shots = []
    for text in ("", TEXT):
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setValue(value)
        bar.setFormat(text)
        bar.resize(500, 24)
        shots.append(bar.grab().toImage().convertToFormat(QImage.Format.Format_RGB32))
        bar.deleteLater()
    plain, lettered = shots
    return sum(abs(qGray(plain.pixel(x, y)) - qGray(lettered.pixel(x, y))) > CONTRAST
               for x in range(plain.width()) for y in range(plain.height()))


@pytest.fixture(autouse=True)
def window_style(qapp):
    qapp.setStyleSheet(stylesheet())  # as the window has it (tests' own QApplication has none)
    yield
    qapp.setStyleSheet("")


def test_the_text_shows_whole_at_every_fill():
    empty = _changed_pixels(0)
    assert empty > 200
    for value in (250, 300, 350, 480, 500, 520, 1000):
        changed = _changed_pixels(value)
        assert abs(changed - empty) < 0.15 * empty, f"at {value / 10:.0f} % the text changes {changed} pixels, {empty} empty"
