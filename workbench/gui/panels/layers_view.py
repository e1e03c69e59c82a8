"""Layers for one image (in the Model tab): for the model loaded in Classify or Evaluate, what each
spatial layer makes of one image — its feature maps (most active channels first), its statistics, and
the first convolution's filters as pictures. Computed by `core.explain.activations` on the Model tab's
task thread. Run alone: ``python -m workbench.gui.panels.layers_view MODEL [IMAGE]``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.feature_maps import MosaicView, tile_size_for
from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.model_files import IMAGE_FILTER, urls_to_paths
from workbench.gui.widgets.qimage import array_to_pixmap
from workbench.gui.widgets.rich_text import html_text
from workbench.gui.wording import in_window_terms

TASK = "layers-for-one-image"
PICTURE = 96  # the image, enlarged
COLUMNS = ("Layer", "Type", "Output", "Mean", "Dead ReLU")


@dataclass(frozen=True, eq=False)
class LayersAnswer:
    """What the worker hands back: the core's ImageLayers plus where the image came from, in words."""

    layers: object  # workbench.core.explain.activations.ImageLayers
    source: str
    true_label: str | None
    steps: tuple[str, ...]
    class_names: tuple[str, ...]


_test_splits: dict[tuple, tuple] = {}  # (dataset, data dir) -> (x_test, y_test, names): the last one only
_test_lock = threading.Lock()


def _test_image(dataset_id: str, data_dir: str | None, index: int) -> tuple[np.ndarray, str]:
    from workbench.core.datasets import load_dataset

    key = (dataset_id, data_dir)
    with _test_lock:
        split = _test_splits.get(key)
        if split is None:
            ds = load_dataset(dataset_id, data_dir)
            split = (ds.x_test, ds.y_test, tuple(ds.class_names))
            _test_splits.clear()
            _test_splits[key] = split
    x, y, names = split
    if not 0 <= index < len(x):
        raise ValueError(f"{dataset_id} has {len(x)} test images; #{index} is not one of them.")
    return np.array(x[index]), names[int(y[index])]


def compute_layers(loaded, source: tuple, cancel=None) -> LayersAnswer:
    """Worker thread: the image (``("test", dataset, data_dir, index)`` or ``("file", path)``) fitted
    to the model as Classify fits it, then every spatial layer's activations for it."""
    from workbench.core.classify import classify_arrays, classify_images
    from workbench.core.explain.activations import image_layers

    true_label = None
    if source[0] == "test":
        _, dataset_id, data_dir, index = source
        image, true_label = _test_image(dataset_id, data_dir, int(index))
        where = f"{dataset_id} test #{int(index)}"
        result = classify_arrays(loaded, [image], [where], top=1)[0]
    else:
        where = os.fspath(source[1])
        result = classify_images(loaded, [where], 1)[0]
    if result.error:
        raise ValueError(result.error)
    should_stop = cancel.is_set if cancel is not None else None
    layers = image_layers(loaded, result.model_input, cancel=should_stop)
    return LayersAnswer(layers, where, true_label, tuple(result.steps or ()), tuple(loaded.class_names))


def _number(value: float) -> str:
    return f"{value:.3g}"


class LayersView(QWidget):
    """Public API: ``follow_model(loaded, dataset_id, data_dir)``, ``show_test_image(index)``,
    ``show_file(path)``, ``select_layer(name)``; signals ``shown(str)`` (the image's source) and
    ``failed(str)``. ``answer`` holds what is on screen."""

    shown = Signal(str)
    failed = Signal(str)

    def __init__(self, tasks: PanelTasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks  # the Model tab's: the window waits for them when it closes
        self.loaded = None
        self.dataset_id: str | None = None
        self.data_dir: str | None = None
        self.answer: LayersAnswer | None = None
        self._source: tuple | None = None
        self._stale = False  # a model or image is waiting to be computed when the view is shown

        self.message = MessageLabel("Open a model in Classify or Evaluate: its layers are shown here for "
                                    "one image (a test image, or a file you pick or drop here).")
        self.picture = QLabel()
        self.picture.setFixedSize(PICTURE, PICTURE)
        self.picture.setStyleSheet("background: #f0f0f0;")
        self.index_spin = QSpinBox()
        self.index_spin.setRange(0, 999_999)
        self.index_spin.setPrefix("test #")
        self.index_spin.setToolTip("Which test image of the model's dataset")
        self.index_spin.setKeyboardTracking(False)
        self.index_spin.valueChanged.connect(self.show_test_image)
        self.file_button = QPushButton("Image &file…")
        self.file_button.setToolTip("Any image file (or drop one on this view); fitted to the model as "
                                    "Classify fits it")
        self.file_button.clicked.connect(self._browse)
        controls = QVBoxLayout()
        controls.addWidget(self.index_spin)
        controls.addWidget(self.file_button)
        controls.addStretch(1)
        head = QHBoxLayout()
        head.addWidget(self.picture)
        head.addLayout(controls)
        head.addWidget(self.message, 1)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeaderItem(4).setToolTip(
            "Share of the layer's channels that are ≤ 0 at every position for this image (ReLU units that "
            "pass nothing on for it); “—” where the output has negative values (not after a ReLU)")
        self.table.horizontalHeaderItem(3).setToolTip("Mean of the layer's output over all positions and channels")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.itemSelectionChanged.connect(self._on_layer_selected)
        self.maps = MosaicView()
        self.filters = MosaicView()
        self.pictures = QTabWidget()
        self.pictures.addTab(self.maps, "Feature maps")
        self.pictures.addTab(self.filters, "First-layer filters")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.pictures)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        # At 1280×720 the table gets ~560 px: its five columns, Dead ReLU's "50 % (12/24)" included, unscrolled.
        split.setSizes([600, 330])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(split, 1)
        self.setAcceptDrops(True)
        self._update_controls()

    # ---- what to show ------------------------------------------------------------------------------
    @Slot(object)
    def follow_model(self, loaded, dataset_id: str | None = None, data_dir: str | None = None) -> None:
        """Show ``loaded``'s layers (test images from ``dataset_id``, else the one that suits the model)."""
        if loaded is None or loaded is self.loaded:
            return
        from workbench.gui.panels.model_panel import test_set_for

        self.loaded = loaded
        self.dataset_id = dataset_id or test_set_for(loaded, None)
        if data_dir is not None:
            self.data_dir = data_dir
        if self._source is None or self._source[0] == "test":
            index = self.index_spin.value()
            self._source = ("test", self.dataset_id, self.data_dir, index) if self.dataset_id else None
        self._update_controls()
        self._request()

    @Slot(int)
    def show_test_image(self, index: int) -> None:
        if self.dataset_id is None:
            return
        if self.index_spin.value() != index:
            self.index_spin.blockSignals(True)
            self.index_spin.setValue(index)
            self.index_spin.blockSignals(False)
        self._source = ("test", self.dataset_id, self.data_dir, int(index))
        self._request()

    def show_file(self, path: str | os.PathLike) -> None:
        self._source = ("file", os.fspath(path))
        self._request()

    def _request(self) -> None:
        if self.loaded is None or self._source is None:
            if self.loaded is not None:
                self.message.setText("No test set suits this model: pick an image file or drop one here.")
            return
        if not self.isVisible():
            self._stale = True  # computed when the view is next shown: no work for a hidden tab
            return
        self._stale = False
        self.message.setText(f"Computing every layer for {html_text(self._source_text())}…")
        self.tasks.start(compute_layers, self.loaded, self._source, name=TASK, pass_cancel=True,
                         on_success=self._on_answer, on_failure=self._on_failed)

    def _source_text(self) -> str:
        s = self._source
        return f"{s[1]} test #{s[3]}" if s[0] == "test" else os.path.basename(s[1])

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if self._stale:
            self._request()

    # ---- answers -----------------------------------------------------------------------------------
    @Slot(object)
    def _on_answer(self, answer: LayersAnswer) -> None:
        self.answer = answer
        il = answer.layers
        self.picture.setPixmap(array_to_pixmap(il.image, PICTURE))
        top = int(np.argmax(il.probabilities))
        said = f"{answer.class_names[top]} ({il.probabilities[top] * 100:.1f} %)"
        text = (f"<b>{html_text(os.path.basename(answer.source))}</b> — the model says "
                f"<b>{html_text(said)}</b>")
        if answer.true_label is not None:
            text += f"; true label {html_text(answer.true_label)}"
        text += f". {len(il.layers)} layers with height × width."
        if answer.steps:
            text += f"<br><small>{html_text('; '.join(answer.steps))}</small>"
        for note in il.notes:
            text += f"<br><small>{html_text(note)}</small>"
        self.message.setText(text)
        self._fill_table(il.layers)
        self._show_filters(il)
        self.shown.emit(answer.source)

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        message = in_window_terms(error.message)
        self.message.setText(f"<span style='color:#b00020'>{html_text(message)}</span>")
        self.failed.emit(message)

    def _fill_table(self, layers) -> None:
        previous = self.selected_layer()
        self.table.blockSignals(True)
        self.table.setRowCount(len(layers))
        for r, layer in enumerate(layers):
            h, w, c = layer.output_shape
            dead = "—" if layer.dead_share is None else f"{layer.dead_share * 100:.0f} % ({layer.dead_channels}/{c})"
            values = (layer.name, layer.class_name, f"{h}×{w}×{c}", _number(layer.mean_activation), dead)
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col, item)
        self.table.blockSignals(False)
        names = [layer.name for layer in layers]
        self.select_layer(previous if previous in names else (names[0] if names else ""))

    def selected_layer(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item else None

    def select_layer(self, name: str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text() == name:
                self.table.selectRow(r)
                self._on_layer_selected()
                return

    @Slot()
    def _on_layer_selected(self) -> None:
        name = self.selected_layer()
        if self.answer is None or name is None:
            return
        layer = self.answer.layers.layer(name)
        h, w, c = layer.output_shape
        kept = len(layer.maps)
        caption = (f"<b>{html_text(name)}</b> ({html_text(layer.class_name)}, {h}×{w}×{c}): "
                   f"{'all ' if kept == c else f'the {kept} most active of '}{c} channels, most active first "
                   "(mean activation); each map coloured from its own lowest (dark) to highest (yellow) value")
        self.maps.set_maps(layer.maps, caption, tile=tile_size_for(layer.output_shape))

    def _show_filters(self, il) -> None:
        if il.filters is None:
            self.filters.set_tiles(None, html_text(" ".join(il.notes) or "No first-layer filters."))
            return
        f = il.filters
        self.filters.set_tiles(
            f, f"<b>{html_text(il.filters_layer)}</b>: {len(f)} filters of {f.shape[1]}×{f.shape[2]} pixels, "
               "each scaled on its own from its lowest weight (black) to its highest (bright)",
            tile=48)

    # ---- files -------------------------------------------------------------------------------------
    @Slot()
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image for the layers view", "", IMAGE_FILTER)
        if path:
            self.show_file(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        if urls_to_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt name
        paths = urls_to_paths(event.mimeData())
        if paths:
            self.show_file(paths[0])
        event.acceptProposedAction()

    def _update_controls(self) -> None:
        self.index_spin.setEnabled(self.loaded is not None and self.dataset_id is not None)
        self.file_button.setEnabled(self.loaded is not None)


if __name__ == "__main__":  # pragma: no cover - manual look
    import sys

    from workbench.gui.standalone import run_panel
    from workbench.gui.widgets.model_setup import ModelSetupBox

    def _make() -> QWidget:
        holder = QWidget()
        tasks = PanelTasks(holder)
        view = LayersView(tasks)
        setup = ModelSetupBox(tasks)
        setup.model_loaded.connect(view.follow_model)
        layout = QHBoxLayout(holder)
        layout.addWidget(setup)
        layout.addWidget(view, 1)
        if len(sys.argv) > 1:
            setup.open_model(sys.argv[1])
        if len(sys.argv) > 2:
            view.show_file(sys.argv[2])
        return holder

    run_panel(_make, "Layers for one image")
