"""Model view: the layer summary table and the layer graph, computed by core on a worker thread."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHeaderView,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.architectures import INPUT_SHAPE, input_problem
from workbench.core.architectures import shape_text as image_shape_text
from workbench.gui.panels.layers_view import LayersView
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.layer_graph import LayerGraph, shape_text
from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.rich_text import html_text


@dataclass(frozen=True)
class ModelSummary:
    arch: str
    num_classes: int
    rows: tuple  # LayerRow, plain data
    total_params: int
    options: tuple = ()  # sorted (name, value) pairs it was built with
    input_shape: tuple = INPUT_SHAPE  # (height, width, channels) it was built for

    @property
    def key(self) -> tuple:
        return (self.arch, self.num_classes, tuple(self.input_shape), self.options)


def summarize_model(arch: str, num_classes: int, input_shape: tuple = INPUT_SHAPE,
                    options: tuple = ()) -> ModelSummary:
    """Worker-thread function: build the model for `input_shape` images and describe its layers (no
    model crosses threads). ``options``: the architecture's options as sorted (name, value) pairs."""
    from workbench.core.architectures import build_model, layer_table

    model = build_model(arch, num_classes, input_shape=tuple(input_shape), **dict(options))
    rows = tuple(layer_table(model))
    total = int(model.count_params())
    del model
    return ModelSummary(arch, num_classes, rows, total, tuple(options), tuple(input_shape))


class ModelViewPanel(QWidget):
    summary_ready = Signal(str)
    summary_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = PanelTasks(self)
        self._cache: dict[tuple, ModelSummary] = {}  # (arch, classes, input shape, options)
        self._wanted: tuple | None = None
        self._pending: set[tuple] = set()
        self.summary: ModelSummary | None = None

        self.title = MessageLabel("Choose an architecture")  # a network that cannot take the images says why
        self.title.setObjectName("panelTitle")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Layer", "Type", "Output shape", "Params"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        for c in (0, 1, 2, 3):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.total_label = MessageLabel()
        self.graph = LayerGraph()
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.table, 1)
        ll.addWidget(self.total_label)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.graph)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([560, 440])
        architecture = QWidget()  # the form's network; beside it, a loaded model's layers for one image
        al = QVBoxLayout(architecture)
        al.setContentsMargins(0, 0, 0, 0)
        al.addWidget(self.title)
        al.addWidget(splitter, 1)
        self.layers_view = LayersView(self.tasks)
        self.views = QTabWidget()
        self.views.addTab(architecture, "Architecture")
        self.views.addTab(self.layers_view, "Layers for one image")
        # Export… for the model loaded in Evaluate/Classify, in the tab bar's corner (no extra row).
        self.export_button = QPushButton("Export model…")
        self.export_button.clicked.connect(self.open_export)
        self.views.setCornerWidget(self.export_button, Qt.Corner.TopRightCorner)
        self.export_dialog = None
        self._update_export()
        layout = QVBoxLayout(self)
        layout.addWidget(self.views, 1)

    def follow_model(self, loaded, dataset_id: str | None = None, data_dir: str | None = None) -> None:
        """The model loaded in Evaluate or Classify: its layers for one image, and Export… for it."""
        self.layers_view.follow_model(loaded, dataset_id, data_dir)
        self._update_export()

    def _update_export(self) -> None:
        loaded = self.layers_view.loaded
        self.export_button.setEnabled(loaded is not None)
        self.export_button.setToolTip(
            "Export the model loaded in Evaluate/Classify to SavedModel, LiteRT or ONNX, checked against Keras"
            if loaded is not None else "Open a model in Evaluate or Classify first: there is no model to export")

    def open_export(self):
        from workbench.gui.widgets.export_dialog import open_export_dialog

        if self.layers_view.loaded is not None:
            self.export_dialog = open_export_dialog(self, self.layers_view.loaded, data_dir=self.layers_view.data_dir)
        return self.export_dialog

    def show_model(self, arch: str, num_classes: int, options: dict | None = None, *,
                   input_shape: tuple = INPUT_SHAPE) -> None:
        """Show ``arch`` built for ``num_classes`` and ``input_shape`` images with ``options`` (cached;
        otherwise built on a worker thread); a network that cannot take the shape says why instead."""
        key = (arch, num_classes, tuple(input_shape), tuple(sorted((options or {}).items())))
        self._wanted = key
        problem = input_problem(arch, input_shape)
        if problem:
            self._show_problem(problem)
            return
        if key in self._cache:
            self._display(self._cache[key])
            return
        self.title.setText(f"Building {arch} for {num_classes} classes and {image_shape_text(input_shape)} images…")
        if key in self._pending:
            return
        self._pending = {key}  # a summary for an earlier choice is superseded (its answer never arrives)
        self.tasks.start(
            summarize_model, *key, name="model-summary",
            on_success=self._on_summary, on_failure=self._on_failed,
        )

    def _show_problem(self, problem: str) -> None:
        self.summary = None
        self.title.setText(f"<span style='color:#b00020'>{html_text(problem)}</span>")
        self.table.setRowCount(0)
        self.total_label.setText("")
        self.graph.set_rows(())
        self.summary_failed.emit(problem)

    @Slot(object)
    def _on_summary(self, summary: ModelSummary) -> None:
        key = summary.key
        self._pending.discard(key)
        self._cache[key] = summary
        if key == self._wanted:
            self._display(summary)

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        self._pending.clear()
        self.title.setText(f"The model could not be built: {error.message}")
        self.summary_failed.emit(error.message)

    def _display(self, summary: ModelSummary) -> None:
        self.summary = summary
        changed = ", ".join(f"{k}={v:g}" for k, v in summary.options)
        self.title.setText(f"<b>{summary.arch}</b> for {summary.num_classes} classes and "
                           f"{image_shape_text(summary.input_shape)} images — {len(summary.rows)} layers"
                           + (f" · {changed}" if changed else ""))
        self.table.setRowCount(len(summary.rows))
        for r, row in enumerate(summary.rows):
            values = [row.name, row.class_name, shape_text(row.output_shape), f"{row.params:,}"]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if row.inbound and len(row.inbound) > 1:
                    item.setToolTip("inputs: " + ", ".join(row.inbound))
                self.table.setItem(r, c, item)
        self.total_label.setText(f"Total parameters: <b>{summary.total_params:,}</b>")
        self.graph.set_rows(summary.rows)
        self.summary_ready.emit(summary.arch)


if __name__ == "__main__":
    import sys

    from workbench.gui.standalone import run_panel

    def _make() -> ModelViewPanel:
        panel = ModelViewPanel()
        panel.show_model(sys.argv[1] if len(sys.argv) > 1 else "toy_resnet", 10)
        return panel

    run_panel(_make, "Model view")
