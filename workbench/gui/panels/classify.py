"""Classify panel: open any Keras model, drop images (or pick test-set images) and see the top-5 guesses.

Each image gets a row: the original, the small picture the model actually sees (enlarged crisp), and
the five most likely labels with probability bars. A file that is not an image gets its own row with
the reason; the rest of the batch still runs. Loading and predicting happen in worker threads.

Run alone: ``python -m workbench.gui.panels.classify [model.h5] [images...]``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.classify import ClassifyResult, write_results_csv
from workbench.core.datasets import DATASETS
from workbench.gui.panels.classify_gradcam import ClassifyGradcam
from workbench.gui.panels.model_panel import ModelPanel, ready_text, test_set_for
from workbench.gui.tasks import TaskError
from workbench.gui.widgets.flow_row import FlowRow
from workbench.gui.widgets.model_files import IMAGE_FILTER, split_paths, urls_to_paths
from workbench.gui.widgets.prob_bars import ProbBars
from workbench.gui.widgets.qimage import array_to_pixmap, array_to_qimage
from workbench.gui.widgets.rich_text import html_text
from workbench.gui.wording import in_window_terms

TOP_K = 5
THUMB = 112  # on-screen size of both pictures in a row
THUMB_SOURCE = 224  # originals are shrunk to this in the worker: big photos never cross the thread whole
TASK = "classify"  # every batch runs under this name: a new model or Clear cancels them all


@dataclass(frozen=True, eq=False)
class ImageRow:
    """One classified image, as plain data for the GUI: the core's result plus what only the window shows."""

    result: ClassifyResult
    original: np.ndarray | None = None  # uint8 H x W x 3, at most THUMB_SOURCE on its longer side
    true_label: str | None = None

    @property
    def source(self) -> str:  # file path, or "cifar10 test #123"
        return self.result.image

    @property
    def model_input(self) -> np.ndarray | None:  # uint8 exactly as fed to the model
        return self.result.model_input

    @property
    def top(self) -> tuple[tuple[str, float], ...]:
        return tuple(self.result.top)

    @property
    def error(self) -> str | None:
        return self.result.error

    @property
    def ok(self) -> bool:
        return self.result.error is None

    @property
    def name(self) -> str:
        return Path(self.source).name if os.path.sep in self.source or "." in Path(self.source).name else self.source


@dataclass(frozen=True, eq=False)
class ClassifyBatch:
    rows: tuple[ImageRow, ...]
    seconds: float


def classify_files(loaded, paths: Sequence[str], top: int = TOP_K, cancel=None) -> ClassifyBatch:
    """Worker thread: the core's ``classify_images`` (one code path with the CLI), plus a thumbnail per
    readable file; unreadable files keep the core's sentence in their own row."""
    from workbench.core.classify import classify_images

    start = time.perf_counter()
    should_stop = cancel.is_set if cancel is not None else None
    # The core decodes each file once and hands back a small copy of the picture for the row.
    results = classify_images(loaded, list(paths), top, cancel=should_stop, preview_size=THUMB_SOURCE)
    rows = tuple(ImageRow(r, r.preview) for r in results)
    return ClassifyBatch(rows, time.perf_counter() - start)


def classify_test_images(loaded, dataset_id: str, data_dir: str | None, count: int, seed: int,
                         top: int = TOP_K) -> ClassifyBatch:
    """Worker thread: ``count`` random test images of a dataset, with their true labels."""
    from workbench.core.classify import classify_arrays
    from workbench.core.datasets import load_dataset

    start = time.perf_counter()
    ds = load_dataset(dataset_id, data_dir)
    rng = np.random.default_rng(seed)
    n = len(ds.y_test)
    idx = np.sort(rng.choice(n, size=min(count, n), replace=False))
    images = [np.array(ds.x_test[i]) for i in idx]
    labels = [f"{dataset_id} test #{int(i)}" for i in idx]
    results = classify_arrays(loaded, images, labels, top=top)
    names = ds.class_names
    rows = tuple(ImageRow(r, img, names[int(ds.y_test[i])]) for img, r, i in zip(images, results, idx))
    return ClassifyBatch(rows, time.perf_counter() - start)


def _original_pixmap(image: np.ndarray, size: int) -> QPixmap:
    """Originals keep their aspect ratio; small ones (CIFAR) are enlarged crisp, big ones smoothly."""
    h, w = image.shape[:2]
    if max(h, w) <= size // 2:
        scale = max(1, size // max(h, w))
        return array_to_pixmap_rect(image, w * scale, h * scale)
    qimg = array_to_qimage(image).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    return QPixmap.fromImage(qimg)


def _same_pixels(original, model_input) -> bool:
    return (original is not None and model_input is not None and original.shape == model_input.shape
            and bool(np.array_equal(original, model_input)))


def array_to_pixmap_rect(image: np.ndarray, w: int, h: int) -> QPixmap:
    qimg = array_to_qimage(image).scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation)
    return QPixmap.fromImage(qimg)


class ResultRow(QFrame):
    """original | what the model sees | name (+ true label) and top-5 bars, or the error."""

    def __init__(self, row: ImageRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = row
        self.setObjectName("resultRow")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(10)

        self.original_label = self._picture("original")
        self.input_label = self._picture("what the model sees")
        if row.original is not None:
            self.original_label[1].setPixmap(_original_pixmap(row.original, THUMB))
            h, w = row.original.shape[:2]
            self.original_label[1].setToolTip(f"{row.source}\n{w}×{h} pixels")
        if row.model_input is not None:
            mi = row.model_input
            self.input_label[1].setPixmap(array_to_pixmap(mi if mi.shape[-1] != 1 else mi[..., 0], THUMB))
            self.input_label[1].setToolTip(f"{mi.shape[1]}×{mi.shape[0]} pixels, enlarged without smoothing")
        layout.addWidget(self.original_label[0])
        layout.addWidget(self.input_label[0])
        if _same_pixels(row.original, row.model_input):
            # nothing was done to the picture: one copy, so the Grad-CAM column and the bars fit 1280 px
            self.original_label[0].hide()
            self.input_label[0].findChild(QLabel, "caption").setText("<small>as the model sees it</small>")
        if row.error:  # nothing to picture: keep the row one line high
            self.original_label[0].hide()
            self.input_label[0].hide()

        text = QVBoxLayout()
        text.setSpacing(4)
        self.name_label = QLabel(f"<b>{html_text(row.name)}</b>")
        self.name_label.setToolTip(row.source)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.name_label)
        self.bars: ProbBars | None = None
        self.error_label: QLabel | None = None
        self.steps_label: QLabel | None = None
        if row.error:
            self.error_label = QLabel(f"⚠ {html_text(row.error)}")
            self.error_label.setWordWrap(True)
            self.error_label.setObjectName("rowError")
            self.error_label.setStyleSheet("color: #b00020;")
            text.addWidget(self.error_label)
        else:
            steps = tuple(getattr(row.result, "steps", ()) or ())
            if steps:  # what was done to the picture before the model saw it
                self.steps_label = QLabel(f"<small>{html_text('; '.join(steps))}</small>")
                self.steps_label.setObjectName("rowSteps")
                self.steps_label.setWordWrap(True)
                self.steps_label.setStyleSheet("color: #555;")
                text.addWidget(self.steps_label)
            if row.true_label is not None:
                verdict = "✔" if row.top and row.top[0][0] == row.true_label else "✘"
                colour = "#2ca02c" if verdict == "✔" else "#d62728"
                tl = QLabel(f"true label: <b>{html_text(row.true_label)}</b> <span style='color:{colour}'>{verdict}</span>")
                text.addWidget(tl)
            self.bars = ProbBars()
            self.bars.set_probabilities(row.top)
            text.addWidget(self.bars)
        text.addStretch(1)
        layout.addLayout(text, 1)

    def _picture(self, caption: str) -> tuple[QWidget, QLabel]:
        holder = QWidget()
        v = QVBoxLayout(holder)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        pic = QLabel()
        pic.setFixedSize(THUMB, THUMB)
        pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pic.setStyleSheet("background: #f0f0f0;")
        cap = QLabel(f"<small>{caption}</small>")
        cap.setObjectName("caption")
        cap.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        v.addWidget(pic)
        v.addWidget(cap)
        return holder, pic


class ClassifyPanel(ModelPanel):
    """Public API (for the main window):

    - ``open_model(path)``, ``set_model(loaded)``; signal ``model_loaded(LoadedModel)``;
    - ``add_images(paths)``, ``add_test_images(count)``, ``clear_results()``, ``export_csv(path)``;
    - ``set_dataset(dataset_id, data_dir)`` picks where test-set images come from;
    - signals ``results_shown(int)`` (rows just added) and ``status_changed(str)``;
    - ``shutdown()`` stops and waits for its threads (also on close).
    """

    results_shown = Signal(int)
    status_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, left_width=(300, 460))
        self.rows: list[ImageRow] = []
        self.row_widgets: list[ResultRow] = []
        self._pending_paths: list[str] = []
        self._seed = 0
        self._last_sources: list[tuple[str, object]] = []  # what to re-run when the model changes
        # Models handed over by other tabs (just trained or evaluated): followed until the user opens one here.
        self._followed_paths: set[str] = set()
        self._offered: tuple[str, str | None, str | None] | None = None  # a trained model, opened when shown

        self.setup.load_failed.connect(self._on_load_failed)

        # toolbar
        self.add_button = QPushButton("Add &images…")
        self.add_button.setToolTip("PNG, JPEG, BMP, GIF… — or drop files anywhere on this panel")
        self.add_button.clicked.connect(self.browse_images)
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 100)
        self.count_spin.setValue(8)
        self.count_spin.setSuffix(" images")
        self.test_button = QPushButton("Add &test images")
        self.test_button.setToolTip("Random images from the chosen dataset's test split, with their true labels")
        self.test_button.clicked.connect(self._on_add_test_images)
        self.clear_button = QPushButton("&Clear")
        self.clear_button.clicked.connect(self.clear_results)
        self.export_button = QPushButton("&Export CSV…")
        self.export_button.clicked.connect(self.browse_export)
        self.export_model_button = QPushButton("Export &model…")  # SavedModel / LiteRT / ONNX, checked
        self.export_model_button.clicked.connect(self.open_export)
        self.export_dialog = None
        bar = FlowRow()  # wraps when the tab is narrow
        bar.addWidget(self.add_button)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Test set"))
        bar.addWidget(self.dataset_combo)
        bar.addWidget(self.count_spin)
        bar.addWidget(self.test_button)
        self.gradcam = ClassifyGradcam(self)  # each row's overlay of where the model looked
        bar.addWidget(self.gradcam.layer_row)
        bar.addStretch(1)

        self.status_label = QLabel("Open a model, then add images (or drop them here).")
        self.status_label.setObjectName("classifyStatus")
        self.status_label.setMinimumWidth(80)  # a long status must not widen the panel
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)  # statuses quote file names and warnings
        self.status_label.setWordWrap(True)
        status_row = QHBoxLayout()  # Clear / Export beside the status: the panel fits a tab beside the form
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.clear_button)
        status_row.addWidget(self.export_button)
        status_row.addWidget(self.export_model_button)
        self.results_holder = QWidget()
        self.results_layout = QVBoxLayout(self.results_holder)
        self.results_layout.setContentsMargins(2, 2, 2, 2)
        self.results_layout.setSpacing(6)
        self.empty_label = QLabel(
            "Drop images here\n\nor use “Add images…” / “Add test images”.\n"
            "Each image shows the original, what the model sees, and its five most likely classes."
        )
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet("color: #777; border: 2px dashed #bbb; padding: 40px;")
        self.results_layout.addWidget(self.empty_label)
        self.results_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.results_holder)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addLayout(bar)
        rl.addLayout(status_row)
        rl.addWidget(self.scroll, 1)
        self.place(right, (340, 760))
        self.setAcceptDrops(True)
        self._update_buttons()

    # ---- model -----------------------------------------------------------------------------------
    @Slot(object)
    def _on_model_loaded(self, loaded) -> None:
        super()._on_model_loaded(loaded)
        ds = test_set_for(loaded, self.dataset_combo.currentData())
        if ds in DATASETS:
            self.dataset_combo.setCurrentIndex(self.dataset_combo.findData(ds))
        self._update_buttons()
        self.model_loaded.emit(loaded)
        pending, self._pending_paths = self._pending_paths, []
        self.tasks.cancel(TASK)  # results computed with the previous model never reach the rows
        if self.rows or pending or self._last_sources:
            # A changed preprocessing or class names: show the same images again, freshly classified.
            sources = list(self._last_sources)
            self._clear_rows()
            self._last_sources = []
            for kind, arg in sources:
                if kind == "files":
                    self.add_images(arg)
                elif DATASETS[arg[0]].num_classes == loaded.num_classes:
                    self._last_sources.append((kind, arg))
                    self._start_test_batch(*arg)
            if pending:
                self.add_images(pending)
        else:
            self._set_status(ready_text(loaded, "Model ready — add images."))

    # ---- following the other tabs' model ------------------------------------------------------------
    def has_own_model(self) -> bool:
        """Whether the user chose this tab's model here (it is then never replaced by another tab's)."""
        if self.setup.busy:
            return self.setup.path not in self._followed_paths
        return self.loaded is not None and getattr(self.loaded, "path", None) not in self._followed_paths

    @Slot(object)
    def follow_model(self, loaded) -> bool:
        """Use the model another tab just loaded (Evaluate), unless the user opened one here."""
        if self.has_own_model():
            return False
        if getattr(loaded, "path", None):
            self._followed_paths.add(loaded.path)
        self._offered = None
        self.setup.picker.refresh_recent()
        self.set_model(loaded)
        return True

    def offer_model(self, path: str, dataset_id: str | None = None, data_dir: str | None = None) -> bool:
        """A model just trained: opened here when this tab is next shown (or now, if it is shown), unless
        the user opened one here. Its dataset's test images become the test set."""
        if self.has_own_model():
            return False
        self._followed_paths.add(str(path))
        self._offered = (str(path), dataset_id, data_dir)
        self.setup.picker.refresh_recent()
        if self.isVisible():
            self._open_offered()
        return True

    def _open_offered(self) -> None:
        offered, self._offered = self._offered, None
        if offered is None or self.has_own_model():
            return
        path, dataset_id, data_dir = offered
        if dataset_id:
            self.set_dataset(dataset_id, data_dir or self.data_dir)
        self.open_model(path)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        self.setup.picker.refresh_recent()  # models opened in other tabs are recent here too
        if self._offered is not None:
            self._open_offered()

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self._set_status(f"The model could not be loaded: {message}")

    # ---- images ----------------------------------------------------------------------------------
    def add_images(self, paths: Sequence[str | os.PathLike]) -> None:
        """Classify image files in a worker; rows appear when done (``results_shown``)."""
        paths = [os.fspath(p) for p in paths]
        if not paths:
            return
        if self.loaded is None:
            self._pending_paths.extend(paths)
            self._set_status(f"{len(self._pending_paths)} image(s) wait for a model — open one first.")
            return
        self._last_sources.append(("files", paths))
        self._set_status(f"Classifying {len(paths)} image(s)…")
        self.tasks.start(
            classify_files, self.loaded, paths, name=TASK, supersede=False, pass_cancel=True,
            on_success=self._on_batch, on_failure=self._on_task_failed,
        )

    def add_test_images(self, count: int | None = None, dataset_id: str | None = None) -> None:
        """Classify ``count`` random test-split images of the chosen (or given) dataset."""
        if dataset_id is not None:
            self.set_dataset(dataset_id, self.data_dir)
        if self.loaded is None:
            self._set_status("Open a model first.")
            return
        self._seed += 1
        args = (self.dataset_combo.currentData(), self.data_dir, int(count or self.count_spin.value()), self._seed)
        self._last_sources.append(("test", args))
        self._start_test_batch(*args)

    def _start_test_batch(self, dataset_id: str, data_dir: str | None, count: int, seed: int) -> None:
        self._set_status(f"Classifying {count} test image(s) from {dataset_id}…")
        self.tasks.start(
            classify_test_images, self.loaded, dataset_id, data_dir, count, seed,
            name=TASK, supersede=False, on_success=self._on_batch, on_failure=self._on_task_failed,
        )

    @Slot()
    def _on_add_test_images(self) -> None:
        self.add_test_images()

    @Slot(object)
    def _on_batch(self, batch: ClassifyBatch) -> None:
        self.empty_label.hide()
        for row in batch.rows:
            widget = ResultRow(row)
            self.results_layout.insertWidget(self.results_layout.count() - 1, widget)
            self.rows.append(row)
            self.row_widgets.append(widget)
        bad = sum(1 for r in batch.rows if not r.ok)
        text = f"{len(self.rows)} image(s) shown; the last {len(batch.rows)} took {batch.seconds * 1000:.0f} ms"
        if bad:
            text += f" — {bad} could not be classified"
        self._set_status(text + ".")
        self._update_buttons()
        self.results_shown.emit(len(batch.rows))

    @Slot(object)
    def _on_task_failed(self, error: TaskError) -> None:
        self._set_status(f"Classification failed: {in_window_terms(error.message)}")

    @Slot()
    def browse_images(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Images to classify", "", IMAGE_FILTER)
        if paths:
            self.add_images(paths)

    @Slot()
    def clear_results(self) -> None:
        self.tasks.cancel(TASK)  # batches still running would refill the rows
        self._clear_rows()
        self._last_sources = []
        self._set_status("Cleared.")

    def _clear_rows(self) -> None:
        for w in self.row_widgets:
            self.results_layout.removeWidget(w)
            w.hide()
            w.deleteLater()
        self.row_widgets.clear()
        self.rows.clear()
        self.empty_label.show()
        self._update_buttons()

    # ---- export ----------------------------------------------------------------------------------
    @Slot()
    def browse_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export results", "classification.csv", "CSV files (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str | os.PathLike) -> None:
        """The core's CSV writer (one format for the project): image, error, then label/probability pairs."""
        path = os.fspath(path)
        try:
            write_results_csv([r.result for r in self.rows], path)
        except OSError as exc:
            self._set_status(f"Could not save {path}: {exc.strerror or exc}. Choose another folder with Export CSV….")
            return
        self._set_status(f"Saved {len(self.rows)} result(s) to {path}.")

    # ---- drag and drop ---------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        if urls_to_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.handle_dropped(urls_to_paths(event.mimeData()))
        event.acceptProposedAction()

    def handle_dropped(self, paths: Sequence[str]) -> None:
        """A model file opens the model; everything else is classified as an image."""
        models, others = split_paths(paths)
        if models:
            self.open_model(models[0])
        if others:
            self.add_images(others)

    # ---- misc ------------------------------------------------------------------------------------
    def result_rows(self) -> list[ImageRow]:
        return list(self.rows)

    def _update_buttons(self) -> None:
        has_model = self.loaded is not None
        self.test_button.setEnabled(has_model)
        self.export_button.setEnabled(bool(self.rows))
        self.clear_button.setEnabled(bool(self.rows))
        self.export_model_button.setEnabled(has_model)
        self.export_model_button.setToolTip("Export this model to SavedModel, LiteRT or ONNX, checked against Keras"
                                            if has_model else "Open a model first: there is no model to export")

    def open_export(self):
        from workbench.gui.widgets.export_dialog import open_export_dialog

        if self.loaded is not None:
            self.export_dialog = open_export_dialog(self, self.loaded, data_dir=self.data_dir)
        return self.export_dialog

    def _set_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_changed.emit(text)


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - manual look
    import sys

    from workbench.gui.standalone import run_panel

    argv = list(sys.argv[1:] if argv is None else argv)
    models, images = split_paths(argv)

    def make() -> ClassifyPanel:
        panel = ClassifyPanel()
        if models:
            panel.open_model(models[0])
        if images:
            panel.add_images(images)
        return panel

    return run_panel(make, "Classify")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
