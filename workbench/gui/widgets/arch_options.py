"""A form for one architecture's options (dropout, filter counts, width…), built from its ArchSpec:
a spin box per numeric option with the spec's bounds, a check box per on/off option, and a button back to
the defaults."""

from __future__ import annotations

from typing import Any, Mapping

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QPushButton, QSpinBox, QWidget

from workbench.core.architectures import ArchSpec

_LABELS = {
    "dropout": "Dropout",
    "input_dropout": "Input dropout",
    "inner_dropout": "Inner dropout",
    "width": "Width (first filters)",
    "blocks_per_stage": "Blocks per stage",
    "weight_decay": "Weight decay (L2)",
    "whiten": "Whitened stem",
    "dirac": "Identity init",
    "gelu": "GELU",
    "bn_scale": "Batch-norm scale",
    "bn_momentum": "Batch-norm momentum",
}


def option_label(key: str) -> str:
    if key in _LABELS:
        return _LABELS[key]
    if key.startswith("conv") and key.endswith("_filters"):
        return f"Conv {key[4:-8]} filters"
    return key.replace("_", " ").capitalize()


class _Switch(QCheckBox):
    """An on/off option with a spin box's interface (value, setValue, valueChanged), so the form treats
    every option alike."""

    valueChanged = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.toggled.connect(self.valueChanged.emit)

    def value(self) -> bool:
        return self.isChecked()

    def setValue(self, value: Any) -> None:  # noqa: N802 (Qt's naming)
        self.setChecked(bool(value))


def _spin_for(default: Any, bounds: tuple[float, float] | None) -> QSpinBox | QDoubleSpinBox | _Switch:
    if isinstance(default, bool):
        return _Switch()
    if isinstance(default, int):
        box = QSpinBox()
        low, high = bounds or (0, 1_000_000)
        box.setRange(int(low), int(high))
        return box
    box = QDoubleSpinBox()
    low, high = bounds or (0.0, 1e6)
    small = 0 < float(default) < 0.01 or high <= 0.1  # weight decay: 1e-4 needs more decimals
    box.setDecimals(6 if small else 2)
    box.setSingleStep(1e-4 if small else 0.05)
    box.setRange(float(low), float(high))
    return box


class ArchOptionsForm(QWidget):
    """``set_spec(spec, values)`` shows one architecture's options; ``values()`` reads them back
    (every option, converted to its default's type); ``changed`` fires on any edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec: ArchSpec | None = None
        self.boxes: dict[str, QSpinBox | QDoubleSpinBox | _Switch] = {}
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.reset_button: QPushButton | None = None  # made with each form (removeRow deletes it)

    def set_spec(self, spec: ArchSpec, values: Mapping[str, Any] | None = None) -> None:
        self.spec = spec
        while self.form.rowCount():
            self.form.removeRow(0)  # deletes the old boxes (and the button's row; it is re-added)
        self.reset_button = QPushButton("Defaults")
        self.reset_button.setToolTip("Put this architecture's options back to their defaults")
        self.reset_button.clicked.connect(self.reset)
        self.boxes = {}
        for key, default in spec.options.items():
            box = _spin_for(default, spec.ranges.get(key))
            box.setValue((values or {}).get(key, default))
            box.setToolTip(f"{key}: default {default}" + (
                f", from {spec.ranges[key][0]} to {spec.ranges[key][1]}" if key in spec.ranges else ""))
            box.valueChanged.connect(self._on_edit)
            self.boxes[key] = box
            self.form.addRow(option_label(key), box)
        if self.boxes:
            self.form.addRow("", self.reset_button)
        self._update_reset()

    def values(self) -> dict[str, Any]:
        return {key: box.value() for key, box in self.boxes.items()}  # int, float or bool, as each box holds it

    def changed_values(self) -> dict[str, Any]:
        """Only the options that differ from the defaults (what a run's config records)."""
        if self.spec is None:
            return {}
        return {k: v for k, v in self.values().items() if v != self.spec.options[k]}

    @Slot()
    def reset(self) -> None:
        if self.spec is None:
            return
        for key, box in self.boxes.items():
            box.blockSignals(True)
            box.setValue(self.spec.options[key])
            box.blockSignals(False)
        self._update_reset()
        self.changed.emit()

    @Slot()
    def _on_edit(self) -> None:
        self._update_reset()
        self.changed.emit()

    def _update_reset(self) -> None:
        if self.reset_button is not None:
            self.reset_button.setEnabled(bool(self.changed_values()))
