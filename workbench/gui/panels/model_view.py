"""Model view: the layer summary table and the layer graph, computed by core on a worker thread, of the
Experiment form's architecture or of the model loaded in Evaluate/Classify (nested models collapsible)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
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


@dataclass(frozen=True)
class LoadedSummary:
    """A loaded model's layers as plain rows (core.explain.layer_tree), or why there are none."""

    name: str
    rows: tuple
    total_params: int
    message: str = ""  # one sentence when the model has no layers to draw (an exported artefact)


def summarize_loaded(loaded) -> LoadedSummary:
    """Worker-thread function: the layer tree of a LoadedModel's model (traced once, symbolically)."""
    from workbench.core.explain.graph import LayerNotFound
    from workbench.core.explain.layer_tree import layer_tree

    try:
        rows = layer_tree(loaded.model)
    except LayerNotFound as exc:
        return LoadedSummary(loaded.name, (), 0, str(exc))
    return LoadedSummary(loaded.name, rows, sum(r.params for r in rows if not r.parent))


SOURCE_FORM, SOURCE_LOADED = 0, 1


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
        self.source_combo = QComboBox()  # whose layers: the form's network or the model loaded for evaluation
        self.source_combo.addItem("The form's architecture")
        self.source_combo.addItem("The loaded model (none yet: open one in Evaluate or Classify)")
        self.source_combo.model().item(SOURCE_LOADED).setEnabled(False)
        self.source_combo.setToolTip("Draw the Experiment form's architecture, or the model opened in Evaluate "
                                     "or Classify (nested models as one box: click it to expand)")
        self.source_combo.currentIndexChanged.connect(self._on_source_changed)
        self.loaded_summary: LoadedSummary | None = None
        self._loaded_token = 0
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
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.source_combo)
        al.addLayout(top)
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
            if self.source_combo.currentIndex() == SOURCE_FORM:
                self._display(self._cache[key])
            else:
                self.summary = self._cache[key]  # shown when the form's architecture is chosen again
            return
        self.title.setText(f"Building {arch} for {num_classes} classes and {image_shape_text(input_shape)} images…")
        if key in self._pending:
            return
        self._pending = {key}  # a summary for an earlier choice is superseded (its answer never arrives)
        self.tasks.start(
            summarize_model, *key, name="model-summary",
            on_success=self._on_summary, on_failure=self._on_failed,
        )

    def follow_loaded(self, loaded: object) -> None:
        """The model loaded in Evaluate/Classify: its layers are summarised on a worker thread, shown when
        "the loaded model" is chosen."""
        self._loaded_token += 1
        token = self._loaded_token
        name = getattr(loaded, "name", "the model")
        self.source_combo.setItemText(SOURCE_LOADED, f"The loaded model: {name}")
        self.source_combo.model().item(SOURCE_LOADED).setEnabled(True)
        self.loaded_summary = None
        if self.source_combo.currentIndex() == SOURCE_LOADED:
            self.title.setText(f"Reading the layers of {html_text(name)}…")
        self.tasks.start(summarize_loaded, loaded, name="loaded-model-summary",
                         on_success=lambda s: self._on_loaded_summary(token, s),
                         on_failure=lambda e: self._on_loaded_summary(token, LoadedSummary(name, (), 0, e.message)))

    def _on_loaded_summary(self, token: int, summary: LoadedSummary) -> None:
        if token != self._loaded_token:
            return  # a later model superseded it
        self.loaded_summary = summary
        if self.source_combo.currentIndex() == SOURCE_LOADED:
            self._display_loaded(summary)

    @Slot(int)
    def _on_source_changed(self, index: int) -> None:
        if index == SOURCE_LOADED:
            if self.loaded_summary is not None:
                self._display_loaded(self.loaded_summary)
            else:
                self.title.setText("Reading the loaded model's layers…")
        elif self.summary is not None:
            self._display(self.summary)
        elif self._wanted is not None:
            self.show_model(self._wanted[0], self._wanted[1], dict(self._wanted[3]), input_shape=self._wanted[2])

    def _display_loaded(self, summary: LoadedSummary) -> None:
        if summary.message:
            self.title.setText(html_text(summary.message))
            self._fill((), "")
            return
        groups = sum(1 for r in summary.rows if r.group)
        nested = f" · {groups} nested model{'s' if groups != 1 else ''}, click one to expand it" if groups else ""
        self.title.setText(f"<b>{html_text(summary.name)}</b> (loaded) — "
                           f"{sum(1 for r in summary.rows if not r.group)} layers{nested}")
        self._fill(summary.rows, f"Total parameters: <b>{summary.total_params:,}</b>")

    def _fill(self, rows, total: str) -> None:
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            values = [row.name, row.class_name, shape_text(row.output_shape), f"{row.params:,}"]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if row.inbound and len(row.inbound) > 1:
                    item.setToolTip("inputs: " + ", ".join(row.inbound))
                self.table.setItem(r, c, item)
        self.total_label.setText(total)
        self.graph.set_rows(rows)

    def _show_problem(self, problem: str) -> None:
        self.summary = None
        if self.source_combo.currentIndex() != SOURCE_FORM:  # said when the form's architecture is chosen
            self.summary_failed.emit(problem)
            return
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
        if key == self._wanted and self.source_combo.currentIndex() == SOURCE_FORM:
            self._display(summary)

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        self._pending.clear()
        if self.source_combo.currentIndex() != SOURCE_FORM:
            self.summary_failed.emit(error.message)
            return
        self.title.setText(f"The model could not be built: {error.message}")
        self.summary_failed.emit(error.message)

    def _display(self, summary: ModelSummary) -> None:
        self.summary = summary
        changed = ", ".join(f"{k}={v:g}" for k, v in summary.options)
        self.title.setText(f"<b>{summary.arch}</b> for {summary.num_classes} classes and "
                           f"{image_shape_text(summary.input_shape)} images — {len(summary.rows)} layers"
                           + (f" · {changed}" if changed else ""))
        self._fill(summary.rows, f"Total parameters: <b>{summary.total_params:,}</b>")
        self.summary_ready.emit(summary.arch)


if __name__ == "__main__":
    import sys

    from workbench.gui.standalone import run_panel

    def _make() -> ModelViewPanel:
        panel = ModelViewPanel()
        panel.show_model(sys.argv[1] if len(sys.argv) > 1 else "toy_resnet", 10)
        return panel

    run_panel(_make, "Model view")
