"""Dataset browser: a 5 x 5 page of samples, paging, shuffle, class filter, per-class counts.

When the data is not on disk it shows where it looked, a Download button (worker thread, progress,
Cancel) and "Open folder or archive…". "Add image folder…" / "Open archive…" import the user's own
collection (name and settings asked, progress and Cancel) and remember it by name; such a dataset
shows its import notes (split, leakage) and "Skipped files (N)…". Loading always happens on a worker thread.

What is browsed lives in ``self.state`` (a Qt-free BrowseState): the controls write to it and the grid,
the bars and the paging are drawn from it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from workbench.core.datasets import DATASETS, get_info
from workbench.core.text import sanitize
from workbench.gui.panels.dataset_browser.loading import (
    LoadedData,
    download_for_browser,
    import_for_browser,
    load_for_browser,
)
from workbench.gui.panels.dataset_browser.state import BrowseState
from workbench.gui.panels.dataset_browser.text import title_text
from workbench.gui.panels.dataset_browser.view import BrowserView
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.import_dialog import ImportDialog, ImportRequest
from workbench.gui.widgets.sample_grid import SampleDialog
from workbench.gui.widgets.skipped_files import SkippedFilesDialog
from workbench.gui.wording import in_window_terms, not_found_text


class DatasetBrowserPanel(BrowserView):
    dataset_loaded = Signal(str)
    dataset_missing = Signal(str)
    load_failed = Signal(str)
    data_dir_chosen = Signal(str)  # the user pointed at a folder/archive that loaded
    dataset_added = Signal(str)  # the user's images were imported and remembered under this name
    import_failed = Signal(str)  # one sentence
    import_cancelled = Signal()  # the import stopped; nothing was remembered

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = PanelTasks(self)  # a newer load supersedes an older one there: its answer never arrives
        self.tasks.task_finished.connect(self._on_task_finished)
        self.state = BrowseState()
        self.dataset_id: str | None = None
        self.data_dir: str | None = None
        self.data: LoadedData | None = None
        self.last_error: TaskError | None = None
        self.import_result = None  # ImportResult of the user's dataset on show (None for the built-in ones)
        self.skipped_dialog: SkippedFilesDialog | None = None
        self._download_cancelled = False
        self._import_cancelled = False
        self._connect()
        self._update_nav()

    def _connect(self) -> None:
        for signal, slot in (
            (self.add_folder_button.clicked, self.add_image_folder),
            (self.add_archive_button.clicked, self.open_image_archive),
            (self.skipped_button.clicked, self.show_skipped),
            (self.train_radio.toggled, self._on_split_toggled),
            (self.class_combo.currentIndexChanged, self._on_class_filter),
            (self.prev_button.clicked, self.previous_page),
            (self.next_button.clicked, self.next_page),
            (self.shuffle_button.toggled, self._on_shuffle_toggled),
            (self.grid.sample_clicked, self._on_sample_clicked),
            (self.download_button.clicked, self.start_download),
            (self.cancel_button.clicked, self.cancel_download),
            (self.open_folder_action.triggered, self.choose_folder),
            (self.open_archive_action.triggered, self.choose_archive),
            (self.import_cancel_button.clicked, self.cancel_import),
        ):
            signal.connect(slot)

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
        self.title.setText(title_text(info))
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
        self._set_import_details(data.imported)
        if data.imported is not None:  # the folder may have changed since it was added
            self._fill_class_combo(data.dataset.class_names)
        # A folder's images come class by class: a shuffled first page shows every class at once.
        self.state.load(data.dataset.y_train, data.dataset.y_test, shuffled=data.imported is not None)
        self.show_shuffled(self.state.shuffled)
        self._redraw()
        self.stack.setCurrentWidget(self.browse_page)
        self.dataset_loaded.emit(data.dataset_id)

    @Slot(object)
    def _on_load_failed(self, error: TaskError) -> None:
        self.last_error = error
        info = DATASETS.get(self.dataset_id or "", None)
        self.data = None
        self.state.clear()
        can_download = bool(info and info.url)
        if error.is_a("DatasetNotFound") and info is not None:  # (a user dataset's message says what to do)
            self.show_missing(f"<b>{info.title} is not on this computer yet</b>",
                              not_found_text(self.dataset_id or "", self.data_dir), can_download)
            self.dataset_missing.emit(self.dataset_id or "")
        else:
            self.show_missing("<b>The dataset could not be read</b>", in_window_terms(error.message), can_download)
            self.load_failed.emit(error.message)

    # --- download / open ------------------------------------------------------------------------
    @Slot()
    def start_download(self) -> None:
        if self.dataset_id is None or self.tasks.is_running("download"):
            return
        self._download_cancelled = False
        self.show_downloading(True)
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
            self.show_downloading(False)
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
        self.show_downloading(False)
        self.download_status.setText("Downloaded.")
        if self.dataset_id:
            self.set_dataset(self.dataset_id, self.data_dir)

    @Slot(object)
    def _on_download_failed(self, error: TaskError) -> None:
        self.show_downloading(False)
        if error.is_a("DownloadCancelled"):
            self.download_status.setText("Download cancelled.")
        else:
            self.download_status.setText(f"Download failed: {in_window_terms(error.message)}")

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
            self.import_status.setText(f"{int(done):,} of {int(total):,} image files read")
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
        self.title.setText(title_text(info))
        self._fill_class_combo(info.class_names)
        self._on_loaded(data)
        self.dataset_added.emit(data.dataset_id)

    @Slot(object)
    def _on_import_failed(self, error: TaskError) -> None:
        self._import_done()
        if error.is_a("ImportCancelled"):
            self._after_cancel()
            return
        self.show_missing("<b>Your images could not be imported</b>", in_window_terms(error.message), False)
        self.import_failed.emit(error.message)

    def _after_cancel(self) -> None:
        """Back to what was shown before (reloaded if the import had superseded its load)."""
        if self.data is not None and self.data.dataset_id == self.dataset_id:
            self.title.setText(title_text(self.data.dataset.info))
            self._set_import_details(self.data.imported)
            self.stack.setCurrentWidget(self.browse_page)
        elif self.dataset_id:
            self.set_dataset(self.dataset_id, self.data_dir)
        else:
            self.stack.setCurrentWidget(self.loading_page)
        self.import_cancelled.emit()

    def _set_import_details(self, result) -> None:
        self.import_result = result
        self.show_import_details(result)

    @Slot()
    def show_skipped(self) -> SkippedFilesDialog | None:
        """The list of files the import left out, with reasons (None when nothing was skipped)."""
        result = self.import_result
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

    # --- browsing: the controls write to the state, then the page is drawn from it ---------------
    def _fill_class_combo(self, names) -> None:
        self.show_class_names(names)
        self.state.set_class_filter(None)

    def class_names(self) -> list[str]:
        return [self.class_combo.itemText(i) for i in range(1, self.class_combo.count())]

    def _arrays(self):
        ds = self.data.dataset
        return (ds.x_train, ds.y_train) if self.state.split == "train" else (ds.x_test, ds.y_test)

    def _redraw(self) -> None:
        """The page and the per-class bars of the chosen split (nothing while no data is loaded)."""
        if self.data is None:
            return
        self._show_page()
        counts = self.data.train_counts if self.state.split == "train" else self.data.test_counts
        self.bars.set_counts(self.data.dataset.class_names, counts, f"{self.state.split} images per class",
                             highlight=self.state.class_filter)

    def page_count(self) -> int:
        return self.state.page_count()

    def _show_page(self) -> None:
        x, y = self._arrays()
        idx = self.state.page_indices()
        names = self.data.dataset.class_names
        images = np.asarray(x[np.sort(idx)]) if len(idx) else np.zeros((0, *x.shape[1:]), np.uint8)
        # keep the page order (fancy indexing on memmaps wants sorted indices)
        if len(idx):
            pos = {v: i for i, v in enumerate(np.sort(idx))}
            images = images[[pos[v] for v in idx]]
        labels = [names[int(y[i])] for i in idx]
        self.grid.set_samples(images, labels, idx)
        self._update_nav()

    def _update_nav(self) -> None:
        self.show_nav(self.state.page_text(), self.state.can_go_back(), self.state.can_go_forward())

    def shown_indices(self) -> list[int]:
        return list(self.grid.indices)

    def shown_labels(self) -> list[str]:
        return self.grid.shown_labels()

    @Slot()
    def next_page(self) -> None:
        if self.data is not None and self.state.next_page():
            self._show_page()

    @Slot()
    def previous_page(self) -> None:
        if self.data is not None and self.state.previous_page():
            self._show_page()

    def set_split(self, split: str) -> None:
        (self.train_radio if split == "train" else self.test_radio).setChecked(True)

    @Slot(bool)
    def _on_split_toggled(self, train_checked: bool) -> None:
        self.state.set_split("train" if train_checked else "test")
        self._redraw()

    def set_class_filter(self, class_index: int | None) -> None:
        i = self.class_combo.findData(class_index) if class_index is not None else 0
        self.class_combo.setCurrentIndex(max(0, i))

    @Slot(int)
    def _on_class_filter(self, _i: int) -> None:
        data = self.class_combo.currentData()
        self.state.set_class_filter(None if data is None else int(data))
        self._redraw()

    def shuffle(self) -> None:
        """A new shuffled order, from the first page."""
        self.state.reshuffle()
        self.show_shuffled(True)
        self._redraw()

    @Slot(bool)
    def _on_shuffle_toggled(self, on: bool) -> None:
        self.state.set_shuffled(on)
        self._redraw()

    @Slot(int)
    def _on_sample_clicked(self, index: int) -> None:
        self.open_sample(index)

    def open_sample(self, index: int) -> SampleDialog | None:
        if self.data is None:
            return None
        x, y = self._arrays()
        label = self.data.dataset.class_names[int(y[index])]
        dialog = SampleDialog(np.asarray(x[index]), index, label, self.state.split, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog
