"""Export… : a loaded model to SavedModel, LiteRT or ONNX through the core's `export_model`, on a background
task with progress and Cancel, then its self-check (the artefact in its own runtime against Keras) as a table."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.datasets import DATASETS, dataset_available
from workbench.core.export import FORMATS, ExportError, check_request
from workbench.core.export.formats import SUFFIXES
from workbench.core.export.sources import CHECK_IMAGES
from workbench.core.text import sanitize
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.message_label import MessageLabel

TASK = "export"
FORMAT_TITLES = {"savedmodel": "SavedModel folder", "litert": "LiteRT .tflite", "onnx": "ONNX .onnx"}
QUANTIZE_TITLES = {"none": "none (float32)", "float16": "float16 weights", "int8": "int8 (calibrated)"}
NOT_LITERT_TIP = "Quantization is offered for LiteRT only: SavedModel and ONNX are exported in float32."
ERROR_STYLE = "color: #b00020;"


def run_export(loaded, fmt, out, quantize, data_dir, min_agreement, progress=None, cancel=None):
    """Worker thread: the core's export_model, its progress sentences passed on."""
    from workbench.core.export import export_model
    from workbench.core.export.runtimes import runtime_name

    report = export_model(loaded, fmt, out, quantize=quantize, data_dir=data_dir, progress=progress,
                          cancel=cancel, min_agreement=min_agreement)
    return report, runtime_name(fmt)


def open_for_export(path: str):
    """Worker thread: a model file opened the way the window opens it (for the runs table's Export…)."""
    from workbench.core.modelio.open import open_model

    return open_model(path)


def default_out(loaded, fmt: str) -> str:
    """Beside the model file, named after it with the format's suffix (a folder for SavedModel)."""
    path = Path(getattr(loaded, "path", None) or Path.home() / (getattr(loaded, "name", None) or "model"))
    return out_for(str(path.with_name(path.stem)), fmt)


def out_for(text: str, fmt: str) -> str:
    """The path the user typed, its name given the suffix of `fmt` (a folder `NAME_savedmodel` for SavedModel)."""
    path = Path(text)
    stem = path.name
    for ending in (".tflite", ".onnx", "_savedmodel"):
        if stem.lower().endswith(ending):
            stem = stem[: -len(ending)]
    return str(path.with_name(stem + ("_savedmodel" if fmt == "savedmodel" else SUFFIXES[fmt])))


def size_text(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def check_rows(report, runtime: str = "the export") -> list[tuple[str, str]]:
    """The self-check as (figure, value) rows; every figure as the core measured it."""
    c = report.check
    quant = f", {report.quantize}" if report.quantize != "none" else ""
    rows = [("Format", f"{FORMAT_TITLES[report.format]}{quant}")]
    if c is None:
        rows.append(("Self-check", f"not run: {report.check_source}"))
    else:
        agree = round(c.agreement * c.images)
        rows += [("Check images", report.check_source),
                 ("Agreement with Keras", f"{agree}/{c.images} = {c.agreement:.3f}"),
                 ("max |Δp|", f"{c.max_abs_diff:.2g}")]
    rows.append(("File size", size_text(report.size_bytes)))
    if c is not None:
        rows.append(("Latency per image", f"{c.latency_ms:.2f} ms in {runtime}; Keras {c.keras_latency_ms:.2f} ms"))
        if c.top1 is not None:
            drop = report.top1_drop
            label = "Top-1 drop" if report.quantize == "int8" else "Top-1"
            rows.append((label, f"{100 * c.top1:.1f} % (Keras {100 * c.keras_top1:.1f} %"
                         + (f", drop {100 * drop:.1f} pt)" if report.quantize == "int8" else ")")))
    for note in report.notes:
        rows.append(("Note", note))
    return rows


class ExportDialog(QDialog):
    """Give it a LoadedModel (or a model file's path, opened here on a background task) and where its
    dataset lives. ``report`` holds the last ExportReport; ``error`` the last failure's sentence."""

    def __init__(self, loaded=None, *, model_path: str | None = None, data_dir: str | None = None,
                 parent: QWidget | None = None, min_agreement: float | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export model")
        self.loaded = None
        self.data_dir = data_dir
        self.min_agreement = min_agreement  # the core's pass mark for float exports (None: its default)
        self.report = None
        self.runtime = ""  # the runtime that ran the check, e.g. "ONNX Runtime 1.23.2"
        self.error = ""
        self.tasks = PanelTasks(self)
        self.tasks.idle.connect(self._on_idle)
        self._cancelling = False

        self.model_label = MessageLabel("")
        self.format_combo = QComboBox()
        for fmt in FORMATS:
            self.format_combo.addItem(FORMAT_TITLES[fmt], fmt)
        self.quantize_combo = QComboBox()
        for q, title in QUANTIZE_TITLES.items():
            self.quantize_combo.addItem(title, q)
        self.out_edit = QLineEdit()
        self.out_edit.setMinimumWidth(320)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.clicked.connect(self.browse_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(self.choose_button)
        self.check_label = MessageLabel("")
        form = QFormLayout()
        form.addRow("Model", self.model_label)
        form.addRow("Format", self.format_combo)
        form.addRow("Quantization", self.quantize_combo)
        form.addRow("Save as", out_row)
        form.addRow("Check images", self.check_label)

        self.status = MessageLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # the converters report no fraction: busy, with the step in words
        self.progress.hide()
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Self-check", "Value"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.hide()
        self.card_label = MessageLabel("")
        self.open_folder_button = QPushButton("Open folder")
        self.open_folder_button.clicked.connect(self.open_folder)
        card_row = QHBoxLayout()
        card_row.addWidget(self.card_label, 1)
        card_row.addWidget(self.open_folder_button)
        self.open_folder_button.hide()

        self.export_button = QPushButton("&Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addStretch(0)  # takes the space only while the table is hidden: a message stays under the form
        layout.addLayout(card_row)
        layout.addLayout(buttons)

        self.format_combo.currentIndexChanged.connect(self._on_format)
        self.quantize_combo.currentIndexChanged.connect(self._validate)
        self.out_edit.textChanged.connect(self._validate)
        if loaded is not None:
            self.set_model(loaded)
        elif model_path:
            self.model_label.setText(f"Opening {sanitize(Path(model_path).name, 120)}…")
            self.tasks.start(open_for_export, model_path, name="open", on_success=self._on_opened,
                             on_failure=self._on_open_failed)
        self._update_buttons()

    # ---- the model ---------------------------------------------------------------------------------
    def set_model(self, loaded) -> None:
        self.loaded = loaded
        name = sanitize(getattr(loaded, "name", None) or Path(loaded.path or "model").name, 120)
        self.model_label.setText(f"{name} — input {'×'.join(str(d) for d in loaded.input_shape)}, "
                                 f"{loaded.num_classes} classes; exported to take raw 0–255 pixels and give probabilities")
        self.check_label.setText(self._check_text())
        self._on_format()

    def _check_text(self) -> str:
        ds = getattr(self.loaded, "dataset_id", None)
        if not ds:
            return "none: the model records no dataset, so the export will not be checked"
        if ds not in DATASETS or not dataset_available(ds, self.data_dir):
            return f"none: its dataset {sanitize(ds, 80)} is not on this computer, so the export will not be checked"
        n = min(CHECK_IMAGES, DATASETS[ds].test_size)
        return f"the first {n} test images of {DATASETS[ds].title} (on disk), run through Keras and the export"

    @Slot(object)
    def _on_opened(self, opening) -> None:
        if opening.loaded is None:
            self._fail(f"{opening.message} Open it in Classify to answer, then export from there.", about_export=False)
            self.model_label.setText(sanitize(Path(opening.path).name, 120))
            return
        self.set_model(opening.loaded)

    @Slot(object)
    def _on_open_failed(self, error: TaskError) -> None:
        self._fail(error.message, about_export=False)

    # ---- the request -------------------------------------------------------------------------------
    @property
    def fmt(self) -> str:
        return self.format_combo.currentData()

    @property
    def quantize(self) -> str:
        return self.quantize_combo.currentData()

    @Slot()
    def _on_format(self) -> None:
        litert = self.fmt == "litert"
        if not litert:
            self.quantize_combo.setCurrentIndex(0)
        self.quantize_combo.setEnabled(litert)
        self.quantize_combo.setToolTip("" if litert else NOT_LITERT_TIP)
        if self.loaded is not None:
            text = self.out_edit.text().strip()
            self.out_edit.setText(out_for(text, self.fmt) if text else default_out(self.loaded, self.fmt))
        self._validate()

    def request_problem(self) -> str:
        """The core's sentence for a request it would refuse (an existing path, a wrong suffix), else ''."""
        if not self.out_edit.text().strip():
            return "Choose where to save the export."
        try:
            check_request(self.fmt, self.out_edit.text().strip(), self.quantize)
        except ExportError as exc:
            return str(exc)
        return ""

    @Slot()
    def _validate(self) -> None:
        if not self.tasks.is_running(TASK):
            problem = self.request_problem() if self.loaded is not None else ""
            self._show(problem, error=bool(problem))
        self._update_buttons()

    def browse_out(self) -> None:
        suffix = SUFFIXES[self.fmt]
        filt = f"{FORMAT_TITLES[self.fmt]} (*{suffix})" if suffix else "SavedModel folder (a new folder's name) (*)"
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.out_edit.text(), filt,
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            if suffix and not path.lower().endswith(suffix):
                path += suffix
            self.out_edit.setText(path)

    # ---- running -----------------------------------------------------------------------------------
    @Slot()
    def export(self) -> None:
        problem = self.request_problem()
        if self.loaded is None or problem:
            self._fail(problem or "No model to export.")
            return
        self.report, self.error = None, ""
        self.table.hide()
        self.card_label.setText("")
        self.open_folder_button.hide()
        self.progress.show()
        self._show(f"Exporting to {FORMAT_TITLES[self.fmt]}…")
        self.tasks.start(run_export, self.loaded, self.fmt, self.out_edit.text().strip(), self.quantize,
                         self.data_dir, self.min_agreement, name=TASK, pass_progress=True, pass_cancel=True,
                         on_success=self._on_done, on_failure=self._on_failed, on_progress=self._on_progress)
        self._update_buttons()

    @Slot()
    def cancel(self) -> None:
        """While exporting: stop it (the step under way ends first) and remove what it began; else close."""
        if self.tasks.is_running(TASK):
            self.tasks.cancel(TASK)
            self._cancelling = True
            self.progress.hide()
            self._show("Cancelling… the step under way ends first, then what it began is removed; nothing is written.")
            self._update_buttons()
        elif self.tasks.is_idle():
            self.reject()

    def reject(self) -> None:
        if self.tasks.is_idle():  # a running export must end (and clean up) before the dialog goes
            super().reject()
        else:
            self.cancel()

    @Slot()
    def _on_idle(self) -> None:
        if self._cancelling:  # the worker has stopped and removed its temporary files
            self._cancelling = False
            self._show("Export cancelled; nothing was written.")
        self._update_buttons()

    @Slot(object)
    def _on_progress(self, text) -> None:
        self._show(sanitize(text, 200))

    @Slot(object)
    def _on_done(self, result) -> None:
        self.progress.hide()
        self.report, self.runtime = result
        report = self.report
        rows = check_rows(report, self.runtime)
        self.table.setRowCount(len(rows))
        for r, (name, value) in enumerate(rows):
            for c, text in enumerate((name, sanitize(value, 600))):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        self.table.show()
        self._show(f"Exported to {sanitize(report.path, 300)}.")
        self.card_label.setText(f"Model card: {sanitize(report.card_md, 300)}")
        self.open_folder_button.show()

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        self.progress.hide()
        self._fail(error.message)

    def _fail(self, message: str, about_export: bool = True) -> None:
        text = sanitize(message, 800)
        if about_export and "nothing was written" not in text.lower():
            text += " Nothing was written."
        self.error = text
        self._show(text, error=True)

    def _show(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def _update_buttons(self) -> None:
        running = not self.tasks.is_idle()
        self.export_button.setEnabled(self.loaded is not None and not running and not self.request_problem())
        for w in (self.format_combo, self.out_edit, self.choose_button):
            w.setEnabled(not running)
        self.quantize_combo.setEnabled(not running and self.fmt == "litert")
        self.cancel_button.setText("Cancel" if running else "Close")
        self.cancel_button.setEnabled(not running or self.tasks.is_running(TASK))

    def open_folder(self) -> bool:
        """The model card's folder in the file manager."""
        if self.report is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(self.report.card_md)))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        if self.tasks.is_idle():
            super().closeEvent(event)
        else:
            self.cancel()
            event.ignore()


def open_export_dialog(parent: QWidget, loaded=None, *, model_path: str | None = None,
                       data_dir: str | None = None) -> ExportDialog:
    """The entry points' one call: a non-modal Export dialog for `loaded` (or the file at `model_path`)."""
    dialog = ExportDialog(loaded, model_path=model_path, data_dir=data_dir, parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    dialog.show()
    return dialog
