"""Dataset browser: a 5 x 5 page of samples, paging, shuffle, class filter, per-class counts.

When the data is not on disk it shows where it looked, a Download button (worker thread, progress,
Cancel) and "Open folder or archive…". "Add image folder…" / "Open archive…" import the user's own
collection (name and settings asked, progress and Cancel) and remember it by name; such a dataset
shows its import notes (split, leakage) and "Skipped files (N)…". Loading always happens on a worker thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.datasets import DATASETS, get_info
from workbench.core.text import sanitize
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.class_bars import ClassBarChart
from workbench.gui.widgets.import_dialog import ImportDialog, ImportRequest
from workbench.gui.widgets.skipped_files import SkippedFilesDialog
from workbench.gui.widgets.sample_grid import SampleDialog, SampleGrid
from workbench.gui.wording import in_window_terms, not_found_text


@dataclass(frozen=True, eq=False)
class LoadedData:
    """What a load hands back to the GUI: the (read-only) dataset and counts computed off-thread."""

    dataset_id: str
    dataset: object  # workbench.core.datasets.Dataset
    train_counts: tuple[int, ...]
    test_counts: tuple[int, ...]
    imported: object = None  # workbench.core.datasets.folder_import.ImportResult for the user's own images


def _loaded(dataset_id: str, ds, imported=None) -> LoadedData:
    n = ds.num_classes
    train = np.bincount(np.asarray(ds.y_train, np.int64).ravel(), minlength=n)[:n]
    test = np.bincount(np.asarray(ds.y_test, np.int64).ravel(), minlength=n)[:n]
    return LoadedData(dataset_id, ds, tuple(int(c) for c in train), tuple(int(c) for c in test), imported)


def load_for_browser(dataset_id: str, data_dir: str | None) -> LoadedData:
    """Worker-thread function: load the dataset and count images per class."""
    from workbench.core.datasets import load_dataset

    if dataset_id not in DATASETS:  # the user's own: keep what the import found (skipped files, split, leaks)
        from workbench.core.datasets.resolve import open_spec

        result = open_spec(dataset_id)
        return _loaded(dataset_id, result.dataset, result)
    return _loaded(dataset_id, load_dataset(dataset_id, data_dir))


def import_for_browser(request: ImportRequest, progress=None, cancel=None) -> LoadedData:
    """Worker-thread function: import the user's folder or archive and remember it by name."""
    from workbench.core.datasets import add_user_dataset

    result = add_user_dataset(request.name, request.path, size=request.size, color=request.color,
                              fit=request.fit, progress=progress, cancel=cancel)
    return _loaded(request.name, result.dataset, result)


def import_notes(result) -> str:
    """Rich text under the title: how the images were made to fit, where the test split came from, leaks."""
    lines = [f"{sanitize(result.settings.describe())}"
             + (f" ({' and '.join(result.defaults)} chosen from the images)" if result.defaults else ""),
             sanitize(result.split.describe(), 300).capitalize()]
    if result.empty_classes:
        lines.append("Class folders without a usable image (left out): "
                     + ", ".join(sanitize(c, 60) for c in result.empty_classes))
    if result.leaks:
        first = result.leaks[0]
        more = f" and {len(result.leaks) - 1:,} more" if len(result.leaks) > 1 else ""
        lines.append(f"<span style='color:#b00020'>Leakage: {len(result.leaks):,} test images are also in the "
                     f"training images (e.g. {sanitize(first.test_path, 120)} = {sanitize(first.train_path, 120)}"
                     f"{more}).</span>")
    return "<br>".join(lines)


def download_for_browser(dataset_id: str, data_dir: str | None, progress=None, cancel=None) -> str:
    from workbench.core.datasets import download_dataset

    dest = data_dir if data_dir and not Path(data_dir).is_file() else None
    return str(download_dataset(dataset_id, dest, progress=progress, cancel=cancel))


class DatasetBrowserPanel(QWidget):
    dataset_loaded = Signal(str)
    dataset_missing = Signal(str)
    load_failed = Signal(str)
    data_dir_chosen = Signal(str)  # the user pointed at a folder/archive that loaded
    page_changed = Signal()
    dataset_added = Signal(str)  # the user's images were imported and remembered under this name
    import_failed = Signal(str)  # one sentence
    import_cancelled = Signal()  # the import stopped; nothing was remembered

    PAGE_SIZE = 25

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = PanelTasks(self)  # a newer load supersedes an older one there: its answer never arrives
        self.tasks.task_finished.connect(self._on_task_finished)
        self.dataset_id: str | None = None
        self.data_dir: str | None = None
        self.data: LoadedData | None = None
        self.split = "train"
        self.class_filter: int | None = None
        self.page = 0
        self._order: np.ndarray | None = None  # shuffled order of the current split, or None
        self._visible: np.ndarray = np.zeros(0, np.int64)
        self._download_cancelled = False
        self.last_error: TaskError | None = None

        self._import_cancelled = False
        self.import_result = None  # ImportResult of the user's dataset on show (None for the built-in ones)

        # --- title row: what is shown, and adding the user's own images ---
        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        self.add_folder_button = QPushButton("Add image &folder…")
        self.add_folder_button.setToolTip("Import a folder of your own images: one subfolder per class")
        self.add_folder_button.clicked.connect(self.add_image_folder)
        self.add_archive_button = QPushButton("Open a&rchive…")
        self.add_archive_button.setToolTip("Import a .zip, .tar or .tar.gz of class folders")
        self.add_archive_button.clicked.connect(self.open_image_archive)
        title_row = QHBoxLayout()
        title_row.addWidget(self.title, 1)
        title_row.addWidget(self.add_folder_button)
        title_row.addWidget(self.add_archive_button)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setObjectName("hint")
        self.notes.setVisible(False)
        self.skipped_button = QPushButton()
        self.skipped_button.setToolTip("Files of this folder that were not used, each with the reason")
        self.skipped_button.clicked.connect(self.show_skipped)
        self.skipped_button.setVisible(False)
        notes_row = QHBoxLayout()
        notes_row.addWidget(self.notes, 1)
        notes_row.addWidget(self.skipped_button, 0, Qt.AlignmentFlag.AlignTop)
        self.skipped_dialog: SkippedFilesDialog | None = None

        # --- browse page ---
        self.train_radio = QRadioButton("&Train")
        self.test_radio = QRadioButton("T&est")
        self.train_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.train_radio)
        group.addButton(self.test_radio)
        self.train_radio.toggled.connect(self._on_split_toggled)
        self.class_combo = QComboBox()
        self.class_combo.setMinimumWidth(160)
        self.class_combo.currentIndexChanged.connect(self._on_class_filter)
        self.prev_button = QPushButton("◀ &Previous")
        self.next_button = QPushButton("&Next ▶")
        self.shuffle_button = QPushButton("S&huffle")
        self.shuffle_button.setCheckable(True)
        self.prev_button.clicked.connect(self.previous_page)
        self.next_button.clicked.connect(self.next_page)
        self.shuffle_button.toggled.connect(self._on_shuffle_toggled)
        self.page_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.train_radio)
        bar.addWidget(self.test_radio)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Class"))
        bar.addWidget(self.class_combo)
        bar.addStretch(1)
        bar.addWidget(self.shuffle_button)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.page_label)
        bar.addWidget(self.next_button)

        self.grid = SampleGrid(5, 5, 96)
        self.grid.sample_clicked.connect(self._on_sample_clicked)
        self.bars = ClassBarChart()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        grid_holder = QWidget()
        gl = QVBoxLayout(grid_holder)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.addWidget(self.grid, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        gl.addStretch(1)
        splitter.addWidget(grid_holder)
        splitter.addWidget(self.bars)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        browse = QWidget()
        bl = QVBoxLayout(browse)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addLayout(bar)
        bl.addWidget(splitter, 1)

        # --- loading page ---
        loading = QWidget()
        ll = QVBoxLayout(loading)
        self.loading_label = QLabel("Loading…")
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        ll.addStretch(1)
        ll.addWidget(self.loading_label)
        ll.addStretch(1)

        # --- missing page ---
        missing = QWidget()
        missing.setObjectName("missingPanel")
        ml = QVBoxLayout(missing)
        self.missing_title = QLabel()
        self.missing_title.setObjectName("panelTitle")
        self.missing_text = QLabel()
        self.missing_text.setWordWrap(True)
        self.missing_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download_button = QPushButton("&Download")
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.cancel_button.setEnabled(False)
        self.open_button = QToolButton()
        self.open_button.setText("Open folder or archive…")
        self.open_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.open_button)
        menu.addAction("Folder…", self.choose_folder)
        menu.addAction("Archive (.tar.gz)…", self.choose_archive)
        self.open_button.setMenu(menu)
        self.download_progress = QProgressBar()
        self.download_progress.setVisible(False)
        self.download_status = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        ml.addWidget(self.missing_title)
        ml.addWidget(self.missing_text)
        ml.addLayout(buttons)
        ml.addWidget(self.download_progress)
        ml.addWidget(self.download_status)
        ml.addStretch(1)

        # --- importing page ---
        importing = QWidget()
        il = QVBoxLayout(importing)
        self.import_label = QLabel()
        self.import_label.setWordWrap(True)
        self.import_progress = QProgressBar()
        self.import_status = QLabel()
        self.import_cancel_button = QPushButton("Cancel")
        self.import_cancel_button.clicked.connect(self.cancel_import)
        cancel_row = QHBoxLayout()
        cancel_row.addWidget(self.import_status, 1)
        cancel_row.addWidget(self.import_cancel_button)
        il.addStretch(1)
        il.addWidget(self.import_label)
        il.addWidget(self.import_progress)
        il.addLayout(cancel_row)
        il.addStretch(2)

        self.stack = QStackedWidget()
        self.stack.addWidget(browse)
        self.stack.addWidget(loading)
        self.stack.addWidget(missing)
        self.stack.addWidget(importing)
        self.browse_page, self.loading_page, self.missing_page = browse, loading, missing
        self.import_page = importing
        self.loading_label.setText("No dataset chosen yet.")
        self.stack.setCurrentWidget(loading)

        layout = QVBoxLayout(self)
        layout.addLayout(title_row)
        layout.addLayout(notes_row)
        layout.addWidget(self.stack, 1)
        self._update_nav()

    # --- loading --------------------------------------------------------------------------------
    def set_dataset(self, dataset_id: str, data_dir: str | None = None) -> None:
        """Show ``dataset_id`` (loads on a worker thread; emits dataset_loaded / dataset_missing / load_failed)."""
        try:
            info = get_info(dataset_id) if dataset_id in DATASETS or self._is_user(dataset_id) else None
        except Exception:  # noqa: BLE001 - the load below reports the problem in one sentence
            info = None
        if info is None:
            self.load_failed.emit(f"There is no dataset called {sanitize(dataset_id)!r}.")
            return
        self.dataset_id = dataset_id
        self.data_dir = data_dir
        self.title.setText(f"<b>{sanitize(info.title)}</b> — {info.num_classes} classes")
        self._set_import_details(None)
        self._fill_class_combo(info.class_names)
        self.loading_label.setText(f"Loading {sanitize(info.title)}…")
        self.stack.setCurrentWidget(self.loading_page)
        self.tasks.start(
            load_for_browser, dataset_id, data_dir, name="load-dataset",
            on_success=self._on_loaded, on_failure=self._on_load_failed,
        )

    def is_showing_missing(self) -> bool:
        return self.stack.currentWidget() is self.missing_page

    def is_showing_samples(self) -> bool:
        return self.stack.currentWidget() is self.browse_page

    @Slot(object)
    def _on_loaded(self, data: LoadedData) -> None:
        self.data = data
        self.last_error = None
        self._order = None
        self.shuffle_button.blockSignals(True)
        self.shuffle_button.setChecked(False)
        self.shuffle_button.blockSignals(False)
        self.page = 0
        self._set_import_details(data.imported)
        if data.imported is not None:  # the folder may have changed since it was added
            self._fill_class_combo(data.dataset.class_names)
            # A folder's images come class by class: a shuffled first page shows every class at once.
            self.shuffle_button.blockSignals(True)
            self.shuffle_button.setChecked(True)
            self.shuffle_button.blockSignals(False)
            self._make_shuffle()
        self._refresh_indices()
        self.stack.setCurrentWidget(self.browse_page)
        self.dataset_loaded.emit(data.dataset_id)

    @Slot(object)
    def _on_load_failed(self, error: TaskError) -> None:
        self.last_error = error
        info = DATASETS.get(self.dataset_id or "", None)
        self.data = None
        if error.is_a("DatasetNotFound") and info is not None:  # (a user dataset's message says what to do)
            title = info.title
            self.missing_title.setText(f"<b>{title} is not on this computer yet</b>")
            self.missing_text.setText(not_found_text(self.dataset_id or "", self.data_dir))
            self.download_button.setEnabled(bool(info and info.url))
            self.stack.setCurrentWidget(self.missing_page)
            self.dataset_missing.emit(self.dataset_id or "")
        else:
            self.missing_title.setText("<b>The dataset could not be read</b>")
            self.missing_text.setText(in_window_terms(error.message))
            self.download_button.setEnabled(bool(info and info.url))
            self.stack.setCurrentWidget(self.missing_page)
            self.load_failed.emit(error.message)

    # --- download / open ------------------------------------------------------------------------
    @Slot()
    def start_download(self) -> None:
        if self.dataset_id is None or self.tasks.is_running("download"):
            return
        self._download_cancelled = False
        self.download_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.download_progress.setVisible(True)
        self.download_progress.setRange(0, 0)
        self.download_status.setText("Connecting…")
        self.tasks.start(
            download_for_browser, self.dataset_id, self.data_dir, name="download",
            pass_progress=True, pass_cancel=True,
            on_success=self._on_downloaded, on_failure=self._on_download_failed,
            on_progress=self._on_download_progress,
        )

    @Slot()
    def cancel_download(self) -> None:
        if self.tasks.is_running("download"):
            self._download_cancelled = True
            self.tasks.cancel("download")  # its answer is dropped; the panel resets when its thread ended
            self.cancel_button.setEnabled(False)
            self.download_status.setText("Cancelling…")

    @Slot(str)
    def _on_task_finished(self, name: str) -> None:
        if name == "import" and self._import_cancelled and not self.tasks.is_running("import"):
            self._import_cancelled = False
            self._import_done()
            self._after_cancel()
        if name == "download" and self._download_cancelled and not self.tasks.is_running("download"):
            self._download_cancelled = False
            self._download_done()
            self.download_status.setText("Download cancelled.")

    @Slot(object)
    def _on_download_progress(self, value) -> None:
        try:
            done, total = value
        except (TypeError, ValueError):
            return
        if total:
            self.download_progress.setRange(0, 1000)
            self.download_progress.setValue(int(1000 * done / total))
            self.download_status.setText(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB")
        else:
            self.download_status.setText(f"{done / 1e6:.1f} MB")

    @Slot(object)
    def _on_downloaded(self, _folder: str) -> None:
        self._download_done()
        self.download_status.setText("Downloaded.")
        if self.dataset_id:
            self.set_dataset(self.dataset_id, self.data_dir)

    @Slot(object)
    def _on_download_failed(self, error: TaskError) -> None:
        self._download_done()
        if error.is_a("DownloadCancelled"):
            self.download_status.setText("Download cancelled.")
        else:
            self.download_status.setText(f"Download failed: {in_window_terms(error.message)}")

    def _download_done(self) -> None:
        self.cancel_button.setEnabled(False)
        self.download_button.setEnabled(True)
        self.download_progress.setVisible(False)

    @Slot()
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder holding the dataset")
        if folder:
            self.use_path(folder)

    @Slot()
    def choose_archive(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Dataset archive", "", "CIFAR archives (*.tar.gz *.tgz *.tar);;All files (*)"
        )
        if path:
            self.use_path(path)

    def use_path(self, path: str) -> None:
        """Load the current dataset from a folder or archive the user has (also used for drag and drop)."""
        if self.dataset_id is None:
            return
        self.data_dir_chosen.emit(path)
        self.set_dataset(self.dataset_id, path)

    # --- the user's own images ------------------------------------------------------------------
    @staticmethod
    def _is_user(dataset_id: str) -> bool:
        from workbench.core.datasets import find_user_dataset

        return find_user_dataset(dataset_id) is not None

    @Slot()
    def add_image_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of your images (one subfolder per class)")
        if folder:
            self.ask_and_import(folder)

    @Slot()
    def open_image_archive(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Archive of your images", "",
                                              "Image archives (*.zip *.tar *.tar.gz *.tgz);;All files (*)")
        if path:
            self.ask_and_import(path)

    def ask_and_import(self, path: str) -> ImportDialog:
        """Ask for a name and settings (defaults filled in), then import; returns the (modal) dialog."""
        dialog = ImportDialog(path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.start_import(dialog.request()))
        dialog.open()
        return dialog

    def start_import(self, request: ImportRequest) -> None:
        """Import on a worker thread with progress and Cancel; ends in dataset_added, import_failed or
        import_cancelled."""
        if self.tasks.is_running("import"):
            return
        self.tasks.cancel("load-dataset")  # whatever was loading is superseded by what the user asked for
        self._import_cancelled = False
        self.title.setText(f"<b>Adding {sanitize(request.name)}</b>")
        self._set_import_details(None)
        self.import_label.setText(f"<b>Importing {sanitize(request.name)}</b> from {sanitize(request.path, 200)}")
        self.import_progress.setRange(0, 0)
        self.import_status.setText("Reading the folder…")
        self.import_cancel_button.setEnabled(True)
        self.add_folder_button.setEnabled(False)
        self.add_archive_button.setEnabled(False)
        self.stack.setCurrentWidget(self.import_page)
        self.tasks.start(import_for_browser, request, name="import", pass_progress=True, pass_cancel=True,
                         on_success=self._on_imported, on_failure=self._on_import_failed,
                         on_progress=self._on_import_progress)

    def is_importing(self) -> bool:
        return self.tasks.is_running("import")

    @Slot()
    def cancel_import(self) -> None:
        if self.tasks.is_running("import"):
            self._import_cancelled = True
            self.tasks.cancel("import")  # the worker stops at its next chunk; the answer is dropped
            self.import_cancel_button.setEnabled(False)
            self.import_status.setText("Cancelling…")

    @Slot(object)
    def _on_import_progress(self, value) -> None:
        try:
            done, total = value
        except (TypeError, ValueError):
            return
        if total:
            self.import_status.setText(f"{int(done):,} of {int(total):,} images decoded")
            self.import_progress.setRange(0, int(total))
            self.import_progress.setValue(int(done))

    def _import_done(self) -> None:
        self.add_folder_button.setEnabled(True)
        self.add_archive_button.setEnabled(True)

    @Slot(object)
    def _on_imported(self, data: LoadedData) -> None:
        self._import_done()
        self.dataset_id, self.data_dir = data.dataset_id, None
        info = data.dataset.info
        self.title.setText(f"<b>{sanitize(info.title)}</b> — {info.num_classes} classes")
        self._fill_class_combo(info.class_names)
        self._on_loaded(data)
        self.dataset_added.emit(data.dataset_id)

    @Slot(object)
    def _on_import_failed(self, error: TaskError) -> None:
        self._import_done()
        if error.is_a("ImportCancelled"):
            self._after_cancel()
            return
        self.missing_title.setText("<b>Your images could not be imported</b>")
        self.missing_text.setText(in_window_terms(error.message))
        self.download_button.setEnabled(False)
        self.stack.setCurrentWidget(self.missing_page)
        self.import_failed.emit(error.message)

    def _after_cancel(self) -> None:
        """Back to what was shown before (reloaded if the import had superseded its load)."""
        if self.data is not None and self.data.dataset_id == self.dataset_id:
            info = self.data.dataset.info
            self.title.setText(f"<b>{sanitize(info.title)}</b> — {info.num_classes} classes")
            self._set_import_details(self.data.imported)
            self.stack.setCurrentWidget(self.browse_page)
        elif self.dataset_id:
            self.set_dataset(self.dataset_id, self.data_dir)
        else:
            self.stack.setCurrentWidget(self.loading_page)
        self.import_cancelled.emit()

    def _set_import_details(self, result) -> None:
        self.import_result = result
        self.notes.setVisible(result is not None)
        self.skipped_button.setVisible(bool(result is not None and result.skipped))
        if result is None:
            return
        self.notes.setText(import_notes(result))
        self.skipped_button.setText(f"Skipped files ({len(result.skipped):,})…")

    @Slot()
    def show_skipped(self) -> SkippedFilesDialog | None:
        """The list of files the import left out, with reasons (None when nothing was skipped)."""
        result = getattr(self, "import_result", None)
        if result is None or not result.skipped:
            return None
        self.skipped_dialog = SkippedFilesDialog(str(result.root), result.skipped, self)
        self.skipped_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.skipped_dialog.destroyed.connect(self._forget_skipped_dialog)
        self.skipped_dialog.show()
        return self.skipped_dialog

    @Slot()
    def _forget_skipped_dialog(self) -> None:
        self.skipped_dialog = None

    # --- browsing -------------------------------------------------------------------------------
    def _fill_class_combo(self, names) -> None:
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem("all classes", None)
        for i, name in enumerate(names):
            self.class_combo.addItem(name, i)
        self.class_combo.setCurrentIndex(0)
        self.class_filter = None
        self.class_combo.blockSignals(False)

    def class_names(self) -> list[str]:
        return [self.class_combo.itemText(i) for i in range(1, self.class_combo.count())]

    def _arrays(self):
        ds = self.data.dataset
        return (ds.x_train, ds.y_train) if self.split == "train" else (ds.x_test, ds.y_test)

    def _refresh_indices(self) -> None:
        if self.data is None:
            return
        _x, y = self._arrays()
        y = np.asarray(y).ravel()
        order = self._order if self._order is not None and len(self._order) == len(y) else np.arange(len(y))
        if self.class_filter is not None:
            order = order[y[order] == self.class_filter]
        self._visible = order
        self.page = min(self.page, max(0, self.page_count() - 1))
        self._show_page()
        counts = self.data.train_counts if self.split == "train" else self.data.test_counts
        self.bars.set_counts(self.data.dataset.class_names, counts, f"{self.split} images per class",
                             highlight=self.class_filter)

    def page_count(self) -> int:
        return max(1, math.ceil(len(self._visible) / self.PAGE_SIZE))

    def _show_page(self) -> None:
        x, y = self._arrays()
        start = self.page * self.PAGE_SIZE
        idx = self._visible[start:start + self.PAGE_SIZE]
        names = self.data.dataset.class_names
        images = np.asarray(x[np.sort(idx)]) if len(idx) else np.zeros((0, *x.shape[1:]), np.uint8)
        # keep the page order (fancy indexing on memmaps wants sorted indices)
        if len(idx):
            pos = {v: i for i, v in enumerate(np.sort(idx))}
            images = images[[pos[v] for v in idx]]
        labels = [names[int(y[i])] for i in idx]
        self.grid.set_samples(images, labels, idx)
        self._update_nav()
        self.page_changed.emit()

    def _update_nav(self) -> None:
        has = self.data is not None
        self.page_label.setText(f"page {self.page + 1} of {self.page_count()}" if has else "")
        self.prev_button.setEnabled(has and self.page > 0)
        self.next_button.setEnabled(has and self.page + 1 < self.page_count())

    def shown_indices(self) -> list[int]:
        return list(self.grid.indices)

    def shown_labels(self) -> list[str]:
        return self.grid.shown_labels()

    @Slot()
    def next_page(self) -> None:
        if self.data is not None and self.page + 1 < self.page_count():
            self.page += 1
            self._show_page()

    @Slot()
    def previous_page(self) -> None:
        if self.data is not None and self.page > 0:
            self.page -= 1
            self._show_page()

    def set_split(self, split: str) -> None:
        (self.train_radio if split == "train" else self.test_radio).setChecked(True)

    @Slot(bool)
    def _on_split_toggled(self, train_checked: bool) -> None:
        self.split = "train" if train_checked else "test"
        self._order = None
        if self.shuffle_button.isChecked():
            self._make_shuffle()
        self.page = 0
        self._refresh_indices()

    def set_class_filter(self, class_index: int | None) -> None:
        i = self.class_combo.findData(class_index) if class_index is not None else 0
        self.class_combo.setCurrentIndex(max(0, i))

    @Slot(int)
    def _on_class_filter(self, _i: int) -> None:
        data = self.class_combo.currentData()
        self.class_filter = None if data is None else int(data)
        self.page = 0
        self._refresh_indices()

    def shuffle(self) -> None:
        self.shuffle_button.setChecked(True)
        self._make_shuffle()
        self.page = 0
        self._refresh_indices()

    def _make_shuffle(self) -> None:
        if self.data is None:
            return
        _x, y = self._arrays()
        self._order = np.random.default_rng().permutation(len(y))

    @Slot(bool)
    def _on_shuffle_toggled(self, on: bool) -> None:
        if on:
            self._make_shuffle()
        else:
            self._order = None
        self.page = 0
        self._refresh_indices()

    @Slot(int)
    def _on_sample_clicked(self, index: int) -> None:
        self.open_sample(index)

    def open_sample(self, index: int) -> SampleDialog | None:
        if self.data is None:
            return None
        x, y = self._arrays()
        label = self.data.dataset.class_names[int(y[index])]
        dialog = SampleDialog(np.asarray(x[index]), index, label, self.split, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog


if __name__ == "__main__":
    import sys

    from workbench.gui.standalone import run_panel

    def _make() -> DatasetBrowserPanel:
        panel = DatasetBrowserPanel()
        panel.set_dataset(sys.argv[1] if len(sys.argv) > 1 else "builtin")
        return panel

    run_panel(_make, "Dataset browser")
