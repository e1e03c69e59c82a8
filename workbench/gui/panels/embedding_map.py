"""Map tab: where a model puts the test images in its feature space — the penultimate layer's features
projected to 2-D, PCA at once and t-SNE in the background (progress, Cancel), coloured by true class
with the mistakes drawn as crosses. Hover a point for its image, click it for its prediction and
Grad-CAM, draw a lasso around a group for its images and class counts.

It follows the model loaded in the Evaluate tab and that tab's test set. Run alone:
``python -m workbench.gui.panels.embedding_map [model.h5] [dataset]``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.core.datasets import known_info
from workbench.core.embedding.groups import points_in_polygon, summarize_group
from workbench.gui.panels.model_panel import WARNING_COLOUR
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.embedding_scatter import EmbeddingScatter, class_colours
from workbench.gui.widgets.flow_row import FlowRow
from workbench.gui.widgets.map_details import GroupDialog, HoverCard, PointDialog, legend_html, point_text
from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.rich_text import html_text
from workbench.gui.wording import in_window_terms

FEATURES_TASK = "map-features"
TSNE_TASK = "map-tsne"
GRADCAM_TASK = "map-gradcam"
METHODS = (("pca", "PCA"), ("tsne", "t-SNE"))


@dataclass(frozen=True, eq=False)
class MapData:
    """A model's features of a test set and their PCA map, as handed to the window."""

    dataset_id: str
    images: np.ndarray  # uint8 N × H × W × C; row i is point i
    y_true: np.ndarray
    class_names: tuple[str, ...]
    features: object  # workbench.core.embedding.features.Features
    pca: object  # workbench.core.embedding.projection.Projection

    @property
    def y_pred(self) -> np.ndarray:
        return self.features.predicted


def compute_map(loaded, dataset_id: str, data_dir: str | None, limit: int, progress=None, cancel=None) -> MapData:
    """Worker thread: the test split, its features and their PCA map."""
    from workbench.core.datasets import load_dataset
    from workbench.core.embedding.features import extract_features
    from workbench.core.embedding.projection import pca_2d

    ds = load_dataset(dataset_id, data_dir)
    if loaded.num_classes != ds.num_classes:
        raise ValueError(f"The model predicts {loaded.num_classes} classes but {ds.info.title} has "
                         f"{ds.num_classes}; pick a test set with the same classes in the Evaluate tab.")
    stop = limit if limit and limit > 0 else None
    x = np.ascontiguousarray(ds.x_test[:stop])
    y = np.asarray(ds.y_test[:stop]).reshape(-1).astype(np.int64)
    features = extract_features(loaded, x, progress=progress, cancel=cancel)
    return MapData(dataset_id, x, y, tuple(ds.class_names), features, pca_2d(features.vectors))


def compute_tsne(vectors: np.ndarray, progress=None, cancel=None):
    """Worker thread: the t-SNE map of the features (progress: phase, done, total)."""
    from workbench.core.embedding.projection import tsne_2d

    return tsne_2d(vectors, progress=progress, cancel=cancel)


def compute_gradcam(loaded, image: np.ndarray):
    """Worker thread: Grad-CAM of one image for its predicted class, as (image, map, caption)."""
    from workbench.core.explain.gradcam import describe, explain

    found = explain(loaded, image[None])
    caption = describe(found, 0, loaded.class_names) + (f" — {found.note}" if found.note else "")
    return image, found.maps[0], caption


class EmbeddingMapPanel(QWidget):
    """Public API (for the main window and tests):

    - ``follow_model(loaded)`` (Evaluate's model), ``set_dataset(dataset_id, data_dir)``, ``set_limit(n)``;
    - ``draw()`` reads the features and shows the PCA map; signal ``map_ready(MapData)``;
    - ``set_method("pca" | "tsne")``: t-SNE is computed once in the background; signal ``tsne_ready``;
    - ``cancel()`` stops what runs; ``open_point(i)``, ``select_group(indices)``; ``shutdown()``.
    """

    map_ready = Signal(object)
    tsne_ready = Signal(object)
    map_failed = Signal(str)
    point_opened = Signal(int)
    group_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = PanelTasks(self)  # this panel's work only
        self.loaded = None
        self.dataset_id: str | None = None
        self.data_dir: str | None = None
        self.data: MapData | None = None
        self.tsne = None  # Projection, once computed for `data`
        self.method = "pca"
        self.colours = []
        self.group = np.zeros(0, np.int64)
        self.point_dialog: PointDialog | None = None
        self.group_dialog: GroupDialog | None = None

        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(0, 1_000_000)
        self.limit_spin.setSingleStep(1000)
        self.limit_spin.setSpecialValueText("all")
        self.limit_spin.setToolTip("How many test images to map (the first N); “all” maps the whole split")
        self.draw_button = QPushButton("&Draw map")
        self.draw_button.setToolTip("Read the model's penultimate-layer features of the test images and show "
                                    "their PCA map")
        self.draw_button.clicked.connect(self.draw)
        self.method_combo = QComboBox()
        for key, text in METHODS:
            self.method_combo.addItem(text, key)
        self.method_combo.setToolTip("PCA: at once, keeps large distances. t-SNE: about a minute for 10,000 "
                                     "images, keeps neighbourhoods (distances between clusters mean little)")
        self.method_combo.currentIndexChanged.connect(lambda _i: self.set_method(self.method_combo.currentData()))
        self.lasso_button = QPushButton("&Lasso")
        self.lasso_button.setCheckable(True)
        self.lasso_button.setToolTip("Drag around points to pick a group (its images and class counts); "
                                     "off: drag pans, the wheel zooms")
        self.lasso_button.toggled.connect(self._on_lasso)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        bar = FlowRow()
        bar.addWidget(QLabel("Test images"))
        bar.addWidget(self.limit_spin)
        bar.addWidget(self.draw_button)
        bar.addWidget(QLabel("Map"))
        bar.addWidget(self.method_combo)
        bar.addWidget(self.lasso_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress)
        bar.addStretch(1)
        self.status = MessageLabel("Open a model in the Evaluate tab; its map of the test images is drawn here.")
        self.status.setTextFormat(Qt.TextFormat.RichText)

        self.scatter = EmbeddingScatter()
        self.scatter.point_hovered.connect(self._on_hovered)
        self.scatter.point_clicked.connect(self.open_point)
        self.scatter.lasso_finished.connect(self._on_lasso_finished)
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.legend.setWordWrap(True)  # long class names wrap in the side column instead of widening it
        self.card = HoverCard()
        self.group_label = MessageLabel("")
        self.group_button = QPushButton("Show the group's &images…")
        self.group_button.clicked.connect(self.show_group)
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(4, 0, 4, 0)
        sl.addWidget(self.card)
        sl.addWidget(self.group_label)
        sl.addWidget(self.group_button)
        sl.addWidget(self.legend)
        sl.addStretch(1)
        side_scroll = QScrollArea()
        side_scroll.setWidgetResizable(True)
        side_scroll.setWidget(side)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setMinimumWidth(200)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.scatter)
        split.addWidget(side_scroll)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([640, 260])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self._update_controls()

    # ---- what to map ----------------------------------------------------------------------------
    @Slot(object)
    def follow_model(self, loaded) -> None:
        """Evaluate's model: the map drawn for another model is dropped."""
        if loaded is self.loaded:
            return
        self.tasks.cancel_all()
        self.loaded = loaded
        self._clear()
        self._say(f"{html_text(getattr(loaded, 'name', 'The model'))} is ready — press Draw map.")

    def set_dataset(self, dataset_id: str | None, data_dir: str | None = None) -> None:
        if (dataset_id, data_dir) != (self.dataset_id, self.data_dir):
            self.dataset_id, self.data_dir = dataset_id, data_dir
            if self.data is not None and self.data.dataset_id != dataset_id:
                self.tasks.cancel_all()
                self._clear()
        self._update_controls()

    def set_limit(self, n: int) -> None:
        self.limit_spin.setValue(max(0, int(n)))

    # ---- running ---------------------------------------------------------------------------------
    @Slot()
    def draw(self) -> None:
        if self.loaded is None or not self.dataset_id:
            self._say("Open a model in the Evaluate tab first (its test set is mapped here).")
            return
        self.tasks.cancel_all()
        self._clear()
        info = known_info(self.dataset_id)
        title = info.title if info is not None else self.dataset_id
        self._say(f"Reading the features of {html_text(title)}'s test images…")
        self._progress(0, 0)
        self.tasks.start(compute_map, self.loaded, self.dataset_id, self.data_dir, self.limit_spin.value(),
                         name=FEATURES_TASK, pass_progress=True, pass_cancel=True,
                         on_success=self._on_map, on_failure=self._on_failed, on_progress=self._on_progress)
        self._update_controls()

    @Slot(str)
    def set_method(self, method: str) -> None:
        if method not in dict(METHODS):
            return
        self.method = method
        i = self.method_combo.findData(method)
        if self.method_combo.currentIndex() != i:
            self.method_combo.blockSignals(True)
            self.method_combo.setCurrentIndex(i)
            self.method_combo.blockSignals(False)
        if self.data is None:
            return
        if method == "tsne" and self.tsne is None:
            if not self.tasks.is_running(TSNE_TASK):
                self._progress(0, 0)
                self._say("t-SNE: finding each image's neighbours… (the PCA map stays until it is done)")
                self.tasks.start(compute_tsne, self.data.features.vectors, name=TSNE_TASK, pass_progress=True,
                                 pass_cancel=True, on_success=self._on_tsne, on_failure=self._on_failed,
                                 on_progress=self._on_tsne_progress)
            self._update_controls()
            return
        self._show_points()

    @Slot()
    def cancel(self) -> None:
        running = [name for name in (FEATURES_TASK, TSNE_TASK) if self.tasks.is_running(name)]
        if not running:
            return
        for name in running:
            self.tasks.cancel(name)
        self.progress.hide()
        if TSNE_TASK in running:
            self.set_method("pca")
            self._say("t-SNE cancelled; the PCA map is shown.")
        else:
            self._say("Cancelled; no map was drawn.")
        self._update_controls()

    def is_busy(self) -> bool:
        return self.tasks.is_running(FEATURES_TASK) or self.tasks.is_running(TSNE_TASK)

    @Slot(object)
    def _on_progress(self, value) -> None:
        done, total = value
        self._progress(int(done), int(total))

    @Slot(object)
    def _on_tsne_progress(self, value) -> None:
        phase, done, total = value
        self._progress(int(done), int(total))
        if phase == "optimising":
            self._say(f"t-SNE: arranging the points, iteration {done} of {total}… "
                      "(the PCA map stays until it is done)")

    @Slot(object)
    def _on_map(self, data: MapData) -> None:
        self.progress.hide()
        self.data = data
        self.tsne = None
        self.colours = class_colours(len(data.class_names))
        self._legend()
        self.card.show_point(None, "Hover a point to see its image and prediction; click it for Grad-CAM.")
        if self.method == "tsne":
            self.set_method("tsne")  # the map appears as PCA at once, t-SNE follows
        self._show_points()
        self._update_controls()
        self.map_ready.emit(data)

    @Slot(object)
    def _on_tsne(self, projection) -> None:
        self.progress.hide()
        self.tsne = projection
        if self.method == "tsne":
            self._show_points()
        self._update_controls()
        self.tsne_ready.emit(projection)

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        self.progress.hide()
        message = in_window_terms(error.message)
        self._say(f"<span style='color:#b00020'>{html_text(message)}</span>")
        if self.data is not None and self.method == "tsne" and self.tsne is None:
            self.set_method("pca")
        self._update_controls()
        self.map_failed.emit(message)

    # ---- showing ---------------------------------------------------------------------------------
    def shown_projection(self):
        if self.data is None:
            return None
        return self.tsne if self.method == "tsne" and self.tsne is not None else self.data.pca

    def _show_points(self) -> None:
        d = self.data
        projection = self.shown_projection()
        self.scatter.set_map(projection.coords, d.y_true, d.y_pred, self.colours)
        self.group = np.zeros(0, np.int64)
        self._show_group()
        wrong = int((d.y_pred != d.y_true).sum())
        f = d.features
        notes = "".join(f"<br><small>{html_text(step)}.</small>" for step in f.steps)
        if getattr(self.loaded, "preprocessing_guessed", False):  # the features depend on it: say it is a guess
            notes += (f"<br><span style='color:{WARNING_COLOUR}'>⚠ The model's preprocessing was guessed "
                      f"({html_text(self.loaded.preprocessing.describe())}); check it in the Evaluate tab.</span>")
        self._say(f"{len(d.y_true):,} test images, {f.vectors.shape[1]} features of layer "
                  f"<i>{html_text(f.layer)}</i>; {wrong:,} mistakes (crosses). "
                  f"<small>{html_text(projection.describe())}.</small>{notes}")

    def _legend(self) -> None:
        d = self.data
        c = len(d.class_names)
        counts = np.bincount(d.y_true, minlength=c)
        correct = np.bincount(d.y_true[d.y_pred == d.y_true], minlength=c)
        self.legend.setText(legend_html(d.class_names, self.colours, counts, correct))

    @Slot(int)
    def _on_hovered(self, index: int) -> None:
        d = self.data
        if d is None or index < 0:
            self.card.show_point(None, "Hover a point to see its image." if d is not None else "")
            return
        self.card.show_point(d.images[index], self.hover_text(index))

    def hover_text(self, index: int) -> str:
        d = self.data
        return point_text(index, d.class_names, int(d.y_true[index]), d.features.probabilities[index])

    @Slot(int)
    def open_point(self, index: int) -> None:
        """The image of point `index` enlarged, its prediction, and its Grad-CAM once computed."""
        d = self.data
        if d is None:
            return
        if self.point_dialog is not None:
            self.point_dialog.close()
            self.point_dialog.deleteLater()
        self.point_dialog = PointDialog(d.images[index], index, d.class_names, int(d.y_true[index]),
                                        d.features.probabilities[index], self)
        self.point_dialog.show()
        self.tasks.start(compute_gradcam, self.loaded, d.images[index], name=GRADCAM_TASK,
                         on_success=self._on_gradcam, on_failure=self._on_gradcam_failed)
        self.point_opened.emit(int(index))

    @Slot(object)
    def _on_gradcam(self, value) -> None:
        from workbench.core.explain.gradcam import overlay

        image, heat, caption = value
        if self.point_dialog is not None:
            self.point_dialog.set_gradcam(lambda opacity: overlay(image, heat, opacity), caption)

    @Slot(object)
    def _on_gradcam_failed(self, error: TaskError) -> None:
        if self.point_dialog is not None:
            self.point_dialog.set_gradcam_failed(in_window_terms(error.message))

    # ---- groups ----------------------------------------------------------------------------------
    @Slot(bool)
    def _on_lasso(self, on: bool) -> None:
        self.scatter.set_lasso(on)

    @Slot(object)
    def _on_lasso_finished(self, shape: np.ndarray) -> None:
        projection = self.shown_projection()
        if projection is None:
            return
        self.select_group(points_in_polygon(projection.coords, shape))

    def select_group(self, indices: Sequence[int]) -> None:
        self.group = np.asarray(indices, dtype=np.int64)
        self.scatter.set_group(self.group)
        self._show_group()
        self.group_selected.emit(self.group)

    def group_summary(self):
        d = self.data
        return summarize_group(self.group, d.y_true, d.y_pred, d.class_names)

    def _show_group(self) -> None:
        has = self.data is not None and len(self.group) > 0
        self.group_button.setEnabled(has)
        self.group_label.setText(f"Group: {self.group_summary().describe()}" if has else
                                 ("Press Lasso and drag around points to pick a group." if self.data else ""))

    @Slot()
    def show_group(self) -> None:
        d = self.data
        if d is None or not len(self.group):
            return
        if self.group_dialog is not None:
            self.group_dialog.close()
            self.group_dialog.deleteLater()
        idx = self.group[:200]
        names = d.class_names
        captions = [f"{names[d.y_true[i]]}" + ("" if d.y_pred[i] == d.y_true[i] else f"\n→ {names[d.y_pred[i]]}")
                    for i in idx]
        self.group_dialog = GroupDialog(d.images[idx], [int(i) for i in idx], captions,
                                        self.group_summary().describe(top=len(names)), self)
        self.group_dialog.grid.sample_clicked.connect(self.open_point)
        self.group_dialog.show()

    # ---- misc ------------------------------------------------------------------------------------
    def _clear(self) -> None:
        self.data = None
        self.tsne = None
        self.group = np.zeros(0, np.int64)
        self.scatter.set_map(np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64), [])
        self.legend.setText("")
        self.card.show_point(None, "")
        self._show_group()
        self._update_controls()

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(0, total))
        self.progress.setValue(done)
        self.progress.show()

    def _update_controls(self) -> None:
        busy = self.is_busy()
        self.draw_button.setEnabled(self.loaded is not None and bool(self.dataset_id) and
                                    not self.tasks.is_running(FEATURES_TASK))
        self.cancel_button.setEnabled(busy)
        self.method_combo.setEnabled(not self.tasks.is_running(FEATURES_TASK))
        self.lasso_button.setEnabled(self.data is not None)

    def shutdown(self) -> None:
        """Cancel this panel's tasks, wait for their threads and close its dialogs."""
        self.tasks.cancel_all()
        self.tasks.wait_all()
        for dialog in (self.point_dialog, self.group_dialog):
            if dialog is not None:
                dialog.close()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.shutdown()
        super().closeEvent(event)


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - manual look
    from workbench.core.datasets import DATASETS
    from workbench.gui.standalone import run_panel
    from workbench.gui.widgets.model_files import split_paths

    argv = list(sys.argv[1:] if argv is None else argv)
    models, rest = split_paths(argv)

    def make() -> EmbeddingMapPanel:
        panel = EmbeddingMapPanel()
        panel.set_dataset(rest[0] if rest and rest[0] in DATASETS else "cifar10")
        if models:
            from workbench.core.modelio import open_model

            def opened(opening) -> None:
                if opening.loaded is not None:
                    panel.follow_model(opening.loaded)
                    panel.draw()
                else:
                    panel.status.setText(html_text(opening.message))

            panel.tasks.start(open_model, models[0], name="open", on_success=opened)  # off the GUI thread
        return panel

    return run_panel(make, "Map")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
