"""Evaluate panel: a model on a dataset's test split — top-1/top-5, confusion matrix, per-class accuracy,
the most confident mistakes, and for CIFAR-100 the same at the 20-superclass level.

Clicking a confusion cell opens its test images, most confident first. The evaluation runs in a worker
thread with progress and Cancel. Run alone: ``python -m workbench.gui.panels.evaluate [model.h5] [dataset]``.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.datasets import DATASETS, get_info
from workbench.gui.panels.evaluate_gradcam import EvaluateGradcam
from workbench.gui.panels.model_panel import ModelPanel, ready_text, test_set_for
from workbench.gui.tasks import TaskError
from workbench.gui.widgets.confusion import ConfusionMatrixView
from workbench.gui.widgets.flow_row import FlowRow
from workbench.gui.widgets.model_files import split_paths
from workbench.gui.widgets.prob_bars import ProbBars
from workbench.gui.widgets.qimage import array_to_pixmap
from workbench.gui.widgets.reliability import CalibrationBox, calibration_words
from workbench.gui.widgets.rich_text import html_text
from workbench.gui.widgets.sample_grid import SampleDialog, SampleGrid
from workbench.gui.wording import in_window_terms

TASK = "evaluate"
CELL_GRID_MAX = 200  # images shown for one confusion cell (most confident first)
MISTAKES_SHOWN = 20


class EvaluationRejected(ValueError):
    """A model and dataset that do not fit together; one readable sentence."""


@dataclass(frozen=True, eq=False)
class EvaluationRun:
    """An evaluation as handed to the GUI: the result (and its superclass view) plus the images used."""

    dataset_id: str
    result: object  # workbench.core.evaluation.EvaluationResult
    coarse: object | None  # the 20-superclass result for CIFAR-100, else None
    images: np.ndarray  # uint8 N x H x W x C, row i is result image i


def run_evaluation(loaded, dataset_id: str, data_dir: str | None, limit: int, progress=None, cancel=None) -> EvaluationRun:
    """Worker thread: load the test split, evaluate, and compute the superclass view."""
    from workbench.core.datasets import load_dataset
    from workbench.core.evaluation import evaluate, flip_for

    ds = load_dataset(dataset_id, data_dir)
    if loaded.num_classes != ds.num_classes:
        raise EvaluationRejected(
            f"The model predicts {loaded.num_classes} classes but {ds.info.title} has {ds.num_classes}; "
            "pick a dataset with the same classes."
        )
    stop = limit if limit and limit > 0 else None
    x = np.ascontiguousarray(ds.x_test[:stop])
    y = np.asarray(ds.y_test[:stop])
    should_stop = cancel.is_set if cancel is not None else None
    flip = flip_for(loaded, bool(getattr(ds.info, "mirror_safe", False)))  # as the model's run measured itself
    result = evaluate(loaded, x, y, ds.class_names, progress=progress, cancel=should_stop, flip=flip)
    coarse = result.superclass_result() if dataset_id == "cifar100" else None
    return EvaluationRun(dataset_id, result, coarse, x)


class CellImagesDialog(QDialog):
    """The test images of one confusion cell, most confident first."""

    def __init__(self, images: np.ndarray, indices: Sequence[int], captions: Sequence[str], title: str,
                 total: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.count = int(total)
        cols = 8
        rows = max(1, math.ceil(len(indices) / cols))
        self.grid = SampleGrid(rows, cols, 72)
        self.grid.set_samples(images, captions, indices)
        self.grid.sample_clicked.connect(self._on_clicked)
        self._images = {int(i): img for i, img in zip(indices, images)}
        self._captions = {int(i): c for i, c in zip(indices, captions)}
        head = QLabel(f"<b>{title}</b> — {total} image(s)" + (
            f", the {len(indices)} most confident shown" if total > len(indices) else ", most confident first"))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(scroll, 1)
        self.resize(cols * 100 + 60, min(720, rows * 112 + 80))

    @Slot(int)
    def _on_clicked(self, index: int) -> None:
        SampleDialog(self._images[index], index, self._captions[index].replace("\n", " "), "test", self).exec()


class MistakeTile(QWidget):
    """A test image with three caption lines (true, predicted, confidence); fixed size, clickable."""

    clicked = Signal(int)

    def __init__(self, image_size: int = 72, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = -1
        self.picture = QLabel()
        self.picture.setFixedSize(image_size, image_size)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        fm = self.caption.fontMetrics()
        self.caption.setFixedSize(image_size + 28, fm.lineSpacing() * 3 + 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption, 0, Qt.AlignmentFlag.AlignHCenter)
        self.setFixedSize(image_size + 32, image_size + fm.lineSpacing() * 3 + 12)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_sample(self, image: np.ndarray, index: int, caption: str, tooltip: str) -> None:
        self.index = int(index)
        self.picture.setPixmap(array_to_pixmap(image, self.picture.width()))
        fm = self.caption.fontMetrics()
        width = self.caption.width() - 2
        self.caption.setText("\n".join(fm.elidedText(line, Qt.TextElideMode.ElideRight, width)
                                       for line in caption.split("\n")))
        self.setToolTip(tooltip)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.button() == Qt.MouseButton.LeftButton and self.index >= 0:
            self.clicked.emit(self.index)
        super().mouseReleaseEvent(event)


class MistakeStrip(QWidget):
    """A row of ``MistakeTile``; ``sample_clicked`` gives the test index."""

    sample_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles: list[MistakeTile] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._layout.addStretch(1)

    def set_samples(self, images: np.ndarray, captions: Sequence[str], indices: Sequence[int],
                    tooltips: Sequence[str]) -> None:
        for tile in self.tiles:
            self._layout.removeWidget(tile)
            tile.hide()  # deleteLater waits for the event loop; hidden now, it never shows stale
            tile.deleteLater()
        self.tiles = []
        for image, caption, index, tip in zip(images, captions, indices, tooltips):
            tile = MistakeTile()
            tile.set_sample(image, index, caption, tip)
            tile.clicked.connect(self.sample_clicked)
            self._layout.insertWidget(len(self.tiles), tile)
            tile.show()  # at once, not at the next event loop pass, so the strip's size is right now
            self.tiles.append(tile)

    @property
    def indices(self) -> list[int]:
        return [t.index for t in self.tiles]


class EvaluatePanel(ModelPanel):
    """Public API (for the main window):

    - ``open_model(path)``, ``set_model(loaded)``; signal ``model_loaded(LoadedModel)``;
    - ``set_dataset(dataset_id, data_dir=None)``, ``set_limit(n)`` (0 = the whole test split);
    - ``evaluate()`` starts; ``cancel()``; signals ``evaluation_finished(EvaluationResult)``,
      ``evaluation_failed(str)``, ``progress_changed(int, int)``;
    - ``set_superclasses(bool)`` (CIFAR-100 only), ``open_cell(true, predicted)`` and signal
      ``cell_opened(true, predicted, count)``;
    - ``export_csv(path)``, ``export_png(path)`` (the confusion matrix);
    - ``shutdown()`` stops and waits for its threads (also on close).
    """

    evaluation_finished = Signal(object)
    evaluation_failed = Signal(str)
    progress_changed = Signal(int, int)
    cell_opened = Signal(int, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, left_width=(280, 420))
        self.run: EvaluationRun | None = None
        self.cell_dialog: CellImagesDialog | None = None
        self._show_coarse = False

        # controls
        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(0, 1_000_000)
        self.limit_spin.setSingleStep(500)
        self.limit_spin.setSpecialValueText("all")
        self.limit_spin.setToolTip("How many test images to use (the first N); “all” uses the whole split")
        self.evaluate_button = QPushButton("&Evaluate")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        bar = FlowRow()  # wraps when the tab is narrow
        bar.addWidget(QLabel("Dataset"))
        bar.addWidget(self.dataset_combo)
        bar.addWidget(QLabel("Test images"))
        bar.addWidget(self.limit_spin)
        bar.addWidget(self.evaluate_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress)
        bar.addStretch(1)

        self.score_label = QLabel("Open a model and press Evaluate.")
        self.score_label.setObjectName("scoreLabel")
        font = self.score_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.score_label.setFont(font)
        self.score_label.setWordWrap(True)
        self.coarse_check = QCheckBox("20 &superclasses")
        self.coarse_check.setToolTip("CIFAR-100: the same evaluation with each class counted as its superclass")
        self.coarse_check.toggled.connect(self.set_superclasses)
        self.coarse_check.hide()
        self.export_csv_button = QPushButton("Export C&SV…")
        self.export_csv_button.clicked.connect(self._browse_csv)
        self.export_png_button = QPushButton("Export &PNG…")
        self.export_png_button.clicked.connect(self._browse_png)
        scores = QHBoxLayout()
        scores.addWidget(self.score_label, 1)
        scores.addWidget(self.coarse_check)
        scores.addWidget(self.export_csv_button)
        scores.addWidget(self.export_png_button)

        self.confusion = ConfusionMatrixView()
        self.confusion.cell_clicked.connect(self.open_cell)
        self.accuracy_bars = ProbBars(highlight_first=False, min_width=200)
        acc_holder = QWidget()
        al = QVBoxLayout(acc_holder)
        al.setContentsMargins(4, 4, 4, 4)
        self.accuracy_title = QLabel("<b>Accuracy per class</b>")
        al.addWidget(self.accuracy_title)
        al.addWidget(self.accuracy_bars)
        al.addStretch(1)
        self.accuracy_scroll = QScrollArea()
        self.accuracy_scroll.setWidgetResizable(True)
        self.accuracy_scroll.setWidget(acc_holder)
        self.accuracy_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.accuracy_scroll.setMinimumWidth(220)
        # Calibration (ECE, reliability diagram, the Calibrate button) shares the side with per-class accuracy.
        self.calibration = CalibrationBox(self.tasks, lambda: (self.loaded, self.dataset_combo.currentData(), self.data_dir))
        self.calibration.calibrated.connect(self._on_calibrated)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.accuracy_scroll, "Per class")
        calibration_scroll = QScrollArea()  # scrolls rather than making the window taller than 720 px
        calibration_scroll.setWidgetResizable(True)
        calibration_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        calibration_scroll.setWidget(self.calibration)
        self.side_tabs.addTab(calibration_scroll, "Calibration")
        top_split = QSplitter(Qt.Orientation.Horizontal)
        top_split.addWidget(self.confusion)
        top_split.addWidget(self.side_tabs)
        top_split.setStretchFactor(0, 3)
        top_split.setStretchFactor(1, 2)

        self.mistakes_title = QLabel("<b>Most confident mistakes</b> (true → predicted, confidence)")
        self.mistakes = MistakeStrip()
        self.mistakes.sample_clicked.connect(self._on_mistake_clicked)
        mistakes_holder = QWidget()
        ml = QVBoxLayout(mistakes_holder)
        ml.setContentsMargins(0, 0, 0, 0)
        self.gradcam = EvaluateGradcam(self)  # where the model looked, over the mistakes and a cell's images
        self.coarse_check.toggled.connect(self.gradcam.refresh)  # after the mistakes were rebuilt
        title_row = FlowRow()  # the Grad-CAM controls first: the strip scrolls sideways, a title's end may not show
        title_row.addWidget(self.gradcam.controls)
        title_row.addWidget(self.mistakes_title)
        title_row.addStretch(1)
        ml.addLayout(title_row)
        ml.addWidget(self.mistakes)
        ml.addStretch(1)
        self._mistakes_holder = mistakes_holder
        mistakes_scroll = QScrollArea()
        mistakes_scroll.setWidgetResizable(False)  # sized to its tiles in _show(): a row wider than the view scrolls
        mistakes_scroll.setWidget(mistakes_holder)
        mistakes_scroll.setMinimumHeight(MistakeTile().sizeHint().height() + 60)
        mistakes_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        vsplit = QSplitter(Qt.Orientation.Vertical)
        vsplit.addWidget(top_split)
        vsplit.addWidget(mistakes_scroll)
        vsplit.setStretchFactor(0, 3)
        vsplit.setStretchFactor(1, 0)
        vsplit.setCollapsible(1, False)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addLayout(bar)
        rl.addLayout(scores)
        rl.addWidget(vsplit, 1)
        self.place(right, (320, 980))
        self._update_buttons()

    # ---- model and data --------------------------------------------------------------------------
    @Slot(object)
    def _on_model_loaded(self, loaded) -> None:
        super()._on_model_loaded(loaded)
        wanted = test_set_for(loaded, self.dataset_combo.currentData())
        if wanted is not None:
            self.dataset_combo.setCurrentIndex(self.dataset_combo.findData(wanted))
        self.score_label.setText(html_text(ready_text(loaded, "Model ready — press Evaluate.")))
        self._update_buttons()
        self.calibration.update_buttons()
        self.model_loaded.emit(loaded)

    def set_limit(self, n: int) -> None:
        self.limit_spin.setValue(max(0, int(n)))

    # ---- running -----------------------------------------------------------------------------
    @Slot()
    def evaluate(self) -> None:
        if self.loaded is None:
            self.score_label.setText("Open a model first.")
            return
        if self.tasks.is_running(TASK):
            return  # one evaluation at a time
        dataset_id = self.dataset_combo.currentData()
        self.progress.setRange(0, 0)
        self.progress.show()
        self.score_label.setText(f"Evaluating on {get_info(dataset_id).title}…")
        self.tasks.start(
            run_evaluation, self.loaded, dataset_id, self.data_dir, self.limit_spin.value(),
            name=TASK, pass_progress=True, pass_cancel=True,
            on_success=self._on_finished, on_failure=self._on_failed, on_progress=self._on_progress,
        )
        self._update_buttons()

    @Slot()
    def cancel(self) -> None:
        if self.tasks.is_running(TASK):
            self.tasks.cancel(TASK)  # its partial answer is dropped
            self.progress.hide()
            self.score_label.setText("Evaluation cancelled.")
            self._update_buttons()

    @Slot(object)
    def _on_progress(self, value) -> None:
        done, total = value
        self.progress.setRange(0, int(total))
        self.progress.setValue(int(done))
        self.progress_changed.emit(int(done), int(total))

    @Slot(object)
    def _on_finished(self, run: EvaluationRun) -> None:
        self.progress.hide()
        self.run = run
        self.coarse_check.setVisible(run.coarse is not None)
        if run.coarse is None:
            self._show_coarse = False
            self.coarse_check.setChecked(False)
        self._show()
        self._update_buttons()
        self.evaluation_finished.emit(run.result)

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        self.progress.hide()
        self._update_buttons()
        message = in_window_terms(error.message)
        self.score_label.setText(f"<span style='color:#b00020'>{html_text(message)}</span>")
        self.evaluation_failed.emit(message)

    # ---- showing -----------------------------------------------------------------------------
    @property
    def result(self):
        """The result on screen (the superclass one while that view is on)."""
        if self.run is None:
            return None
        return self.run.coarse if self._show_coarse and self.run.coarse is not None else self.run.result

    @Slot(bool)
    def set_superclasses(self, on: bool) -> None:
        self._show_coarse = bool(on)
        if self.coarse_check.isChecked() != self._show_coarse:
            self.coarse_check.setChecked(self._show_coarse)
        if self.run is not None:
            self._show()

    def _show(self) -> None:
        r = self.result
        names = r.class_names
        level = " (20 superclasses)" if self._show_coarse and self.run.coarse is not None else ""
        top5 = (f"<i>{html_text(r.top5_note)}</i>" if r.top5_note  # 5 classes or fewer: always 100 %
                else f"Top-{r.k} <b>{r.top5 * 100:.2f} %</b>")
        steps = "".join(f"<br><small>{html_text(step)}.</small>" for step in r.steps)  # e.g. resized 32×32 to 28×28
        self.score_label.setText(
            f"Top-1 <b>{r.top1 * 100:.2f} %</b> &nbsp; {top5} &nbsp; ECE <b>{r.ece:.3f}</b> "
            f"<small>({calibration_words(r.temperature)})</small> &nbsp; "
            f"<small>{r.n:,} test images of {get_info(self.run.dataset_id).title}{level}, {r.seconds:.1f} s</small>"
            + steps
        )
        self.calibration.show_result(r)
        self.confusion.set_matrix(r.confusion, names)
        self.confusion.setToolTip("" if len(names) <= 20 else "Hover a cell for its classes and count; click to see its images")
        acc = r.per_class_accuracy
        self.accuracy_bars.set_probabilities([(n, 0.0 if np.isnan(a) else float(a)) for n, a in zip(names, acc)])
        self.accuracy_title.setText(f"<b>Accuracy per class</b>{level}")
        self.accuracy_scroll.widget().layout().activate()
        mistakes = r.most_confident_mistakes(MISTAKES_SHOWN)
        idx = [m.index for m in mistakes]
        images = self.run.images[idx] if idx else np.zeros((0, 32, 32, 3), np.uint8)
        captions = [f"{names[m.true]}\n→ {names[m.predicted]}\n{m.confidence * 100:.1f} %" for m in mistakes]
        tips = [f"test #{m.index}: true {names[m.true]}, predicted {names[m.predicted]} "
                f"with {m.confidence * 100:.1f} % confidence" for m in mistakes]
        self.mistakes.set_samples(images, captions, idx, tips)
        self.mistakes_title.setText(
            f"<b>Most confident mistakes</b>{level} (true → predicted, confidence) — "
            f"{int((r.y_pred != r.y_true).sum()):,} mistakes in all"
        )
        self._fit_mistakes()

    def _fit_mistakes(self) -> None:
        holder = self._mistakes_holder
        self.mistakes.layout().activate()
        holder.layout().invalidate()
        holder.layout().activate()
        holder.resize(holder.minimumSizeHint().expandedTo(holder.sizeHint()))

    @Slot(object)
    def _on_calibrated(self, outcome) -> None:
        self.set_model(outcome.loaded)  # the stored temperature in use here and in Classify, then measured again
        self.evaluate()

    @Slot(int, int)
    def open_cell(self, true: int, predicted: int) -> None:
        """Open the images of one confusion cell, most confident first; emits ``cell_opened``."""
        r = self.result
        if r is None:
            return
        indices = r.cell_indices(true, predicted)
        shown = indices[:CELL_GRID_MAX]
        names = r.class_names
        conf = r.probabilities[shown, predicted] if len(shown) else np.zeros(0)
        captions = [f"#{int(i)}\n{c * 100:.0f}%" for i, c in zip(shown, conf)]
        title = f"true {names[true]}, predicted {names[predicted]}"
        if self.cell_dialog is not None:
            self.cell_dialog.close()
            self.cell_dialog.deleteLater()
        images = self.run.images[shown] if len(shown) else np.zeros((0, 32, 32, 3), np.uint8)
        self.cell_dialog = CellImagesDialog(images, [int(i) for i in shown], captions, title, len(indices), self)
        self.cell_dialog.show()
        self.cell_opened.emit(int(true), int(predicted), int(len(indices)))

    @Slot(int)
    def _on_mistake_clicked(self, index: int) -> None:
        r = self.result
        names = r.class_names
        pred = int(r.y_pred[index])
        text = f"true {names[int(r.y_true[index])]} → predicted {names[pred]} ({r.probabilities[index, pred] * 100:.1f} %)"
        image, looked = self.gradcam.enlarged(index, self.run.images[index])  # with its map while that is on
        SampleDialog(image, index, text + (f"<br>{html_text(looked)}" if looked else ""), "test", self).exec()

    # ---- export ------------------------------------------------------------------------------
    def export_csv(self, path: str | os.PathLike) -> None:
        """The confusion matrix on screen, with totals and per-class accuracy."""
        self.result.write_confusion_csv(path)

    def export_png(self, path: str | os.PathLike) -> bool:
        """The confusion matrix as a picture (drawn larger for many classes, so every cell is visible)."""
        r = self.result
        view = ConfusionMatrixView()
        palette = view.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(255, 255, 255))  # exported pictures on white
        view.setPalette(palette)
        level = ", superclasses" if self._show_coarse and self.run.coarse is not None else ""
        view.set_matrix(r.confusion, r.class_names,
                        title=f"{get_info(self.run.dataset_id).title}{level}: top-1 {r.top1 * 100:.2f} %, n = {r.n}")
        side = 1600 if r.num_classes > 20 else 900
        view.resize(QSize(side, side))
        ok = view.grab().save(os.fspath(path))
        view.deleteLater()
        return ok

    @Slot()
    def _browse_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export confusion matrix", "confusion.csv", "CSV files (*.csv)")
        if path:
            self.export_csv(path)

    @Slot()
    def _browse_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export confusion matrix", "confusion.png", "PNG images (*.png)")
        if path:
            self.export_png(path)

    # ---- misc --------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        running = self.tasks.is_running(TASK)
        self.evaluate_button.setEnabled(self.loaded is not None and not running)
        self.cancel_button.setEnabled(running)
        self.export_csv_button.setEnabled(self.run is not None)
        self.export_png_button.setEnabled(self.run is not None)

    def shutdown(self) -> None:
        super().shutdown()
        if self.cell_dialog is not None:
            self.cell_dialog.close()


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - manual look
    from workbench.gui.standalone import run_panel

    argv = list(sys.argv[1:] if argv is None else argv)
    models, rest = split_paths(argv)

    def make() -> EvaluatePanel:
        panel = EvaluatePanel()
        if rest and rest[0] in DATASETS:
            panel.set_dataset(rest[0])
        if models:
            panel.open_model(models[0])
        return panel

    return run_panel(make, "Evaluate")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
