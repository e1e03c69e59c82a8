"""Grad-CAM in the Classify tab: each classified image gets an overlay of where the model looked, with an
opacity slider and a choice of class (its top guesses); a layer choice for the whole tab (by default the
last spatial layer, found by the core). The maps are computed on the panel's task thread."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from workbench.gui.tasks import TaskError
from workbench.gui.widgets.combos import elide_combo
from workbench.gui.widgets.heatmap import HeatmapBox, explain_images, spatial_layers
from workbench.gui.wording import in_window_terms

TASK = "grad-cam"
LAYERS_TASK = "grad-cam-layers"
AUTO = "auto"


class ClassifyGradcam(QObject):
    """Attached to a ClassifyPanel: ``layer_row`` (label and ``layer_combo``) goes in its tool bar; each new
    result row gets a ``HeatmapBox`` (``row.heatmap``). ``overlay_shown(row_widget, seconds)``: a map
    requested at ``request()`` is on screen, and how long that took."""

    overlay_shown = Signal(object, float)

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.tasks = panel.tasks
        self._generation = 0  # bumped by a new model or layer: older answers are dropped
        self.layer_label = QLabel("Grad-CAM layer")
        self.layer_combo = elide_combo(QComboBox())
        self.layer_combo.setToolTip("The layer whose maps Grad-CAM weighs; by default the last one with "
                                    "height × width, found in the model (nested bases included)")
        self.layer_combo.addItem(AUTO, None)
        self.layer_combo.setEnabled(False)
        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.layer_row = QWidget()  # label and choice wrap to the next line together
        row = QHBoxLayout(self.layer_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.layer_label)
        row.addWidget(self.layer_combo)
        panel.model_loaded.connect(self._on_model)
        panel.results_shown.connect(self._on_rows)

    def layer(self) -> str | None:
        return self.layer_combo.currentData()

    # ---- the model and its layers --------------------------------------------------------------------
    @Slot(object)
    def _on_model(self, loaded) -> None:
        self._generation += 1
        self.tasks.cancel(TASK)
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItem(AUTO, None)
        self.layer_combo.blockSignals(False)
        self.layer_combo.setEnabled(False)
        self.tasks.start(spatial_layers, loaded, name=LAYERS_TASK,
                         on_success=self._on_layers, on_failure=lambda _e: None)

    def _on_layers(self, answer) -> None:
        names, default = answer
        self.layer_combo.blockSignals(True)
        self.layer_combo.setItemText(0, f"{AUTO}: {default}" if default else f"{AUTO}: none (saliency instead)")
        self.layer_combo.setItemData(0, "the last layer with height × width" if default else
                                     "no layer has height × width: gradient × input saliency instead",
                                     Qt.ItemDataRole.ToolTipRole)
        for name in names:
            self.layer_combo.addItem(name, name)
        self.layer_combo.blockSignals(False)
        self.layer_combo.setEnabled(bool(names))

    @Slot(int)
    def _on_layer_changed(self, _position: int) -> None:
        self._generation += 1
        self.request(list(self.panel.row_widgets))

    # ---- rows ------------------------------------------------------------------------------------
    @Slot(int)
    def _on_rows(self, count: int) -> None:
        rows = [w for w in self.panel.row_widgets[-count:] if w.row.ok and w.row.model_input is not None]
        for row in rows:
            self._attach(row)
        self.request(rows)

    def _attach(self, row) -> None:
        if getattr(row, "heatmap", None) is not None:
            return
        names = list(self.panel.loaded.class_names) if self.panel.loaded is not None else []
        classes = [(names.index(n), n, p) for n, p in row.row.top if n in names]
        box = HeatmapBox(row.input_label[1].width(), classes)
        box.class_wanted.connect(lambda _index, r=row: self.request([r]))
        row.heatmap = box
        row.layout().insertWidget(2, box)

    def request(self, rows) -> None:
        """Compute (in the background) and show each row's map for its chosen class and the chosen layer."""
        rows = [r for r in rows if getattr(r, "heatmap", None) is not None]
        if not rows or self.panel.loaded is None:
            return
        images = [r.row.model_input for r in rows]
        classes = [r.heatmap.class_index() for r in rows]
        generation, started = self._generation, time.perf_counter()
        self.tasks.start(explain_images, self.panel.loaded, images, classes, self.layer(),
                         name=TASK, supersede=False, pass_cancel=True,
                         on_success=lambda maps: self._on_maps(generation, started, rows, maps),
                         on_failure=lambda error: self._on_failed(generation, rows, error))

    def _on_maps(self, generation: int, started: float, rows, maps) -> None:
        if generation != self._generation:
            return
        names = self.panel.loaded.class_names
        for row, m in zip(rows, maps):
            if row not in self.panel.row_widgets:  # cleared meanwhile
                continue
            image = np.asarray(row.row.model_input)
            row.heatmap.set_map(image, m.heat, method=m.method, layer=m.layer, note=m.note,
                                class_name=names[m.class_index])
            self.overlay_shown.emit(row, time.perf_counter() - started)

    def _on_failed(self, generation: int, rows, error: TaskError) -> None:
        if generation != self._generation:
            return
        message = in_window_terms(error.message)
        for row in rows:
            if row in self.panel.row_widgets:
                row.heatmap.set_failed(message)
