"""Combo boxes in side panels and tabs: long item titles elide instead of widening the panel
(the full text stays in the popup)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox


def elide_combo(combo: QComboBox, chars: int = 16) -> QComboBox:
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    return combo
