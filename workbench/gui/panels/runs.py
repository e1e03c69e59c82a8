"""Earlier runs as a table: every setting and result per run, sort, filter, choose columns, tag, note,
rename, delete with Undo, export; the selection's curves and settings diff below; open, overlay, resume."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.atomic_write import write_text_atomic
from workbench.core.runs import export as run_export
from workbench.core.runs import filters as run_filters
from workbench.core.runs import meta as run_meta
from workbench.core.runs import table as run_table
from workbench.core.runs import trash as run_trash
from workbench.core.text import sanitize
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.panels.sweep_view import SweepView
from workbench.gui.widgets.flow_row import FlowRow
from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.rich_text import html_text
from workbench.gui.widgets.run_compare import RunComparePlot
from workbench.gui.widgets.run_table_model import RunTableModel

MAX_COMPARED = 12  # curves on one plot before the colours and legend stop being readable
RUN_MODEL_FILES = ("model.h5", "model.keras", "best.h5", "best.keras")  # a run's final model, else its best


def load_run_table(runs_root: str | None) -> run_table.RunTable:
    """Worker-thread function: the core's runs table for ``runs_root`` (default folder when None)."""
    if runs_root is None:
        from workbench.paths import default_runs_root

        runs_root = str(default_runs_root())
    return run_table.load_table(runs_root)


def read_curves(dirs: tuple[str, ...]) -> list[tuple[str, list]]:
    return [(d, run_table.history_for_curves(d)) for d in dirs]


@dataclass(frozen=True)
class RunDetails:
    """One run read for display: its summary, per-epoch history rows, config and result."""

    run_dir: str
    history: tuple  # dict rows from core.training.rundir.read_history
    config: Any  # TrainConfig or None
    result: dict | None
    summary: Any = None  # core.runs.summary.RunSummary or None


def read_run(run_dir: str) -> RunDetails:
    """Worker-thread function: the run as the core's one run-folder reader sees it (capped, never raises)."""
    from workbench.core.runs.folder import read_run_folder
    from workbench.core.runs.summary import load_run_config, summarize_run

    folder = read_run_folder(run_dir)
    history = tuple(dict(r) for r in folder.history) if folder else ()
    result = folder.result if folder and folder.result else None
    return RunDetails(run_dir, history, load_run_config(run_dir), result, summarize_run(run_dir, folder))


class RunsPanel(QWidget):
    open_requested = Signal(object)  # RunDetails
    overlay_requested = Signal(object)  # list[RunDetails]
    clear_overlays_requested = Signal()
    resume_requested = Signal(object)  # RunDetails
    runs_listed = Signal(int)
    comparison_shown = Signal(int)  # number of runs whose curves and diff are shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = PanelTasks(self)
        self.runs_root: str | None = None
        self.rows: list = []  # core RunRow, newest first (every run, unfiltered)
        self.table: run_table.RunTable | None = None
        self.chosen_columns: list[str] | None = None  # None = name, dataset, arch, the diff, main results
        self._pending_action: str | None = None
        self._undo: list[tuple[str, Callable[[], None]]] = []  # (what was done, how to take it back)

        self.model = RunTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setResizeContentsPrecision(50)  # fit columns to 50 rows, not all 1,000
        self.view.doubleClicked.connect(self._on_double_clicked)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: text, or status=finished  arch=resnet20  test_top1>0.7  (all must hold)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMinimumWidth(260)  # in a wrapping row: room to type a filter
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.columns_button = QToolButton()
        self.columns_button.setText("Columns")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_button)
        self.columns_button.setMenu(self.columns_menu)

        self.refresh_button = QPushButton("Refresh")
        self.open_button = QPushButton("Open")
        self.resume_button = QPushButton("Resume")
        self.overlay_button = QPushButton("Overlay on training plots")
        self.clear_button = QPushButton("Clear overlays")
        self.tag_button = QPushButton("Tag…")
        self.note_button = QPushButton("Note…")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete")
        self.undo_button = QPushButton("Undo")
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_md_button = QPushButton("Export Markdown…")
        self.sweep_button = QPushButton("Sweep view…")
        self.export_model_button = QPushButton("Export model…")  # the selected run's model file, checked
        self.export_dialog = None
        self.sweep_button.setToolTip("Setting → result scatter and ranked trials of the selected trials' sweep")
        self.group_sweeps = QCheckBox("Group by sweep")
        self.group_sweeps.setToolTip("Keep each sweep's trials together (runs outside a sweep last)")
        self.group_sweeps.toggled.connect(self.model.set_group_sweeps)
        for button, slot in (
            (self.refresh_button, self.refresh), (self.open_button, self.open_selected),
            (self.resume_button, self.resume_selected), (self.overlay_button, self.overlay_selected),
            (self.clear_button, self.clear_overlays_requested), (self.tag_button, self._ask_tag),
            (self.note_button, self._ask_note), (self.rename_button, self._ask_name),
            (self.delete_button, self.delete_selected), (self.undo_button, self.undo),
            (self.export_csv_button, lambda: self._ask_export("csv")),
            (self.export_md_button, lambda: self._ask_export("md")),
            (self.sweep_button, self.open_sweep_view), (self.export_model_button, self.export_selected_model),
        ):
            button.clicked.connect(slot)
        self.status = MessageLabel()

        self.compare = RunComparePlot()
        self.x_axis = QComboBox()
        self.x_axis.addItem("x: epoch", "epoch")
        self.x_axis.addItem("x: wall time", "time")
        self.x_axis.currentIndexChanged.connect(lambda _i: self.compare.set_x_axis(self.x_axis.currentData()))
        self.diff_view = QTextBrowser()
        self.diff_view.setOpenLinks(False)

        top = FlowRow()  # wraps when the tab is narrow
        for b in (self.refresh_button, self.open_button, self.resume_button, self.overlay_button, self.clear_button):
            top.addWidget(b)
        top.addSpacing(12)
        for b in (self.tag_button, self.note_button, self.rename_button, self.delete_button, self.undo_button):
            top.addWidget(b)
        top.addStretch(1)
        filter_row = FlowRow()
        filter_row.addWidget(self.filter_edit)
        for w in (self.sweep_button, self.group_sweeps, self.columns_button, self.export_csv_button,
                  self.export_md_button, self.export_model_button):  # the filter can shrink; the top row is full
            filter_row.addWidget(w)
        plot_box = QWidget()
        plot_layout = QVBoxLayout(plot_box)
        plot_layout.setContentsMargins(0, 0, 0, 0)
        plot_head = QHBoxLayout()
        plot_head.addWidget(QLabel("<b>Selected runs</b> — validation top-1"))
        plot_head.addStretch(1)
        plot_head.addWidget(self.x_axis)
        plot_layout.addLayout(plot_head)
        plot_layout.addWidget(self.compare, 1)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(plot_box)
        bottom.addWidget(self.diff_view)
        bottom.setSizes([700, 400])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(bottom)
        split.setSizes([500, 300])
        layout = QVBoxLayout(self)
        hint = QLabel("One row per run; the columns show the settings that differ between runs. Select runs to "
                      "compare their curves and settings below; double-click to open one on the Training tab.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addLayout(top)
        layout.addLayout(filter_row)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self._show_diff([])
        self._update_buttons()

    # ---- loading -------------------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        self.status.setText("Reading runs…")
        self.tasks.start(load_run_table, self.runs_root, name="list-runs",
                         on_success=self._on_listed, on_failure=self._on_failed)

    @Slot(object)
    def _on_listed(self, table: run_table.RunTable) -> None:
        selected = self.selected_dirs()
        self.table, self.rows = table, list(table.rows)
        known = run_table.all_columns(table)
        if self.chosen_columns is not None:
            self.chosen_columns = [c for c in self.chosen_columns if c in known] or None
        self.model.set_rows(self.rows, self.columns(), known)
        if self.model.sort_key not in self.model.columns:
            self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.DescendingOrder)  # newest first, no column
        self._build_columns_menu(known)
        self.view.resizeColumnsToContents()
        for i in range(self.model.columnCount()):
            self.view.setColumnWidth(i, min(self.view.columnWidth(i), 260))
        self.select_dirs(selected)
        root = self.runs_root or "the default runs folder"
        notes = len(table.notes) + sum(len(r.notes) for r in self.rows)
        self._set_status(f"{len(self.rows)} runs in {root}" + (f" ({notes} files skipped; see the Name "
                                                               "tooltips)" if notes else ""))
        self._update_buttons()
        self.runs_listed.emit(len(self.rows))

    def columns(self) -> list[str]:
        if self.chosen_columns is not None:
            return list(self.chosen_columns)
        return run_table.default_columns(self.table) if self.table else ["name"]

    def set_columns(self, columns: list[str] | None) -> None:
        """Show these column keys (None: the default — name, dataset, arch, the differing settings, results)."""
        self.chosen_columns = list(columns) if columns is not None else None
        self.model.set_columns(self.columns())
        self.view.resizeColumnsToContents()

    def _build_columns_menu(self, known: list[str]) -> None:
        self.columns_menu.clear()
        default = self.columns_menu.addAction("Default (settings that differ)")
        default.triggered.connect(lambda: self.set_columns(None))
        self.columns_menu.addSeparator()
        shown = set(self.columns())
        for key in known:
            action = QAction(run_table.title(key) if run_table.title(key) == key else f"{run_table.title(key)} ({key})",
                             self.columns_menu)
            action.setCheckable(True)
            action.setChecked(key in shown)
            action.toggled.connect(lambda on, k=key: self._toggle_column(k, on))
            self.columns_menu.addAction(action)

    def _toggle_column(self, key: str, on: bool) -> None:
        columns = [c for c in self.columns() if c != key]
        if on:
            known = self.model.known or []
            columns.append(key)
            columns.sort(key=lambda c: known.index(c) if c in known else len(known))
        self.set_columns(columns or ["name"])

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        self._set_status(f"Could not read runs: {error.message}", error=True)
        if self._pending_action is None:
            self.runs_listed.emit(0)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020;" if error else "")
        self.status.setText(sanitize(text, 400))

    # ---- filter and selection ------------------------------------------------------------------------

    @Slot(str)
    def _on_filter_changed(self, text: str) -> None:
        try:
            exprs = shlex.split(text)
        except ValueError:
            exprs = text.split()
        try:
            self.model.set_filters(exprs)
        except run_filters.FilterError as exc:
            self._set_status(f"Filter: {exc}", error=True)
            return
        self._set_status(f"{self.model.rowCount()} of {len(self.rows)} runs shown")
        self._on_selection_changed()

    def selected_dirs(self) -> list[str]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.row_at(r).run_dir for r in rows if r < self.model.rowCount()]

    def selected_rows(self) -> list:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.row_at(r) for r in rows if r < self.model.rowCount()]

    def select_dirs(self, dirs: list[str]) -> None:
        wanted = {str(Path(d)) for d in dirs}
        selection = self.view.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for i, row in enumerate(self.model.rows):
            if str(Path(row.run_dir)) in wanted:
                selection.select(self.model.index(i, 0), flags)

    def _update_buttons(self) -> None:
        n = len(self.view.selectionModel().selectedRows())
        self.open_button.setEnabled(n == 1)
        self.resume_button.setEnabled(n == 1)
        self.rename_button.setEnabled(n == 1)
        for b in (self.overlay_button, self.tag_button, self.note_button, self.delete_button):
            b.setEnabled(n >= 1)
        self.undo_button.setEnabled(bool(self._undo))
        self.sweep_button.setEnabled(self.selected_sweep() is not None)
        self.undo_button.setToolTip(f"Undo: {self._undo[-1][0]}" if self._undo else "Nothing to undo")
        has_rows = self.model.rowCount() > 0
        self.export_csv_button.setEnabled(has_rows)
        self.export_md_button.setEnabled(has_rows)
        model = self.selected_model_file()
        self.export_model_button.setEnabled(model is not None)
        self.export_model_button.setToolTip(
            f"Export {Path(model).name} to SavedModel, LiteRT or ONNX, checked against Keras" if model else
            "Select one run that saved a model file (model.h5 or best.h5) to export it")

    def selected_model_file(self) -> str | None:
        """The one selected run's model file: its final model, else its best one."""
        dirs = self.selected_dirs()
        files = [Path(dirs[0]) / name for name in RUN_MODEL_FILES] if len(dirs) == 1 else []
        return next((str(f) for f in files if f.is_file()), None)

    def export_selected_model(self):
        from workbench.gui.widgets.export_dialog import open_export_dialog

        from workbench.core.runs.summary import load_run_config

        model = self.selected_model_file()
        if model is not None:
            config = load_run_config(Path(model).parent)  # its data folder holds the check images
            self.export_dialog = open_export_dialog(self, model_path=model,
                                                    data_dir=config.data_dir if config is not None else None)
        return self.export_dialog

    @Slot()
    def _on_selection_changed(self, *_args) -> None:
        self._update_buttons()
        dirs = self.selected_dirs()[:MAX_COMPARED]
        self.tasks.start(read_curves, tuple(dirs), name="curves", on_success=self._on_curves,
                         on_failure=self._on_failed)

    @Slot(object)
    def _on_curves(self, curves: list) -> None:
        by_dir = {r.run_dir: r for r in self.rows}
        shown = [(by_dir[d].get("name") if d in by_dir else Path(d).name, h) for d, h in curves]
        self.compare.set_runs(shown)
        rows = [by_dir[d] for d, _h in curves if d in by_dir]
        self._show_diff(rows)
        self.comparison_shown.emit(len(rows))

    def _show_diff(self, rows: list) -> None:
        if len(rows) < 2:
            text = ("Select two or more runs to see the settings that differ between them."
                    if not rows else "One run selected: select another to compare settings.")
            self.diff_view.setHtml(f"<p style='color:#555'>{text}</p>")
            self.diff_text = ""
            return
        diff = run_table.settings_diff(rows)
        if not diff:
            self.diff_view.setHtml("<p><b>Same settings</b> in all selected runs.</p>")
            self.diff_text = ""
            return
        esc = html_text
        head = "".join(f"<th align='left'>{esc(r.get('name'))}</th>" for r in rows)
        body = "".join(
            f"<tr><td><b>{esc(k)}</b></td>" + "".join(f"<td>{esc(run_export.cell_text(r, k))}</td>" for r in rows)
            + "</tr>" for k in diff)
        self.diff_view.setHtml(f"<p><b>Settings that differ</b></p><table cellspacing='0' cellpadding='3' "
                               f"border='1'><tr><th></th>{head}</tr>{body}</table>")
        self.diff_text = "; ".join(diff)

    # ---- sweeps ---------------------------------------------------------------------------------------

    def selected_sweep(self) -> str | None:
        """The sweep folder when every selected row is a trial of one sweep, else None."""
        rows = self.selected_rows()
        if not rows or not all(r.get("sweep") for r in rows):
            return None
        folders = {str(Path(r.run_dir).parent) for r in rows}
        return folders.pop() if len(folders) == 1 else None

    @Slot()
    def open_sweep_view(self) -> QDialog | None:
        """A window with the selected trials' sweep: setting → result scatter and the ranked trials."""
        folder = self.selected_sweep()
        if folder is None:
            return None
        dialog = QDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowTitle(f"Sweep {sanitize(Path(folder).name, 100)}")
        dialog.sweep_view = SweepView(dialog)
        QVBoxLayout(dialog).addWidget(dialog.sweep_view)
        if not dialog.sweep_view.load(folder):  # sweep.json changed since the table was read
            self._set_status(dialog.sweep_view.title.text(), error=True)
        dialog.resize(900, 700)
        dialog.show()
        return dialog

    # ---- labels, delete, undo ------------------------------------------------------------------------

    def _change(self, what: str, change: Callable[[str], None], dirs: list[str]) -> bool:
        """Apply ``change`` to each run; remember the old labels for Undo; refresh."""
        before = {d: run_meta.read_meta(d)[0] for d in dirs}
        try:
            for d in dirs:
                change(d)
        except (run_meta.MetaError, OSError) as exc:
            for d, meta in before.items():
                run_meta.set_meta(d, meta)  # all or nothing
            self._set_status(str(exc), error=True)
            return False

        def undo() -> None:
            for d, meta in before.items():
                run_meta.set_meta(d, meta)

        self._push_undo(what, undo)
        return True

    def _push_undo(self, what: str, undo: Callable[[], None]) -> None:
        self._undo.append((what, undo))
        self._set_status(f"{what}. Press Undo to take it back.")
        self._update_buttons()
        self.refresh()

    def tag_selected(self, tag: str) -> bool:
        dirs = self.selected_dirs()
        return self._change(f"Tagged {len(dirs)} run(s) {tag!r}", lambda d: run_meta.add_tag(d, tag), dirs)

    def note_selected(self, text: str) -> bool:
        dirs = self.selected_dirs()
        return self._change(f"Set the note of {len(dirs)} run(s)", lambda d: run_meta.set_note(d, text), dirs)

    def rename_selected(self, name: str) -> bool:
        dirs = self.selected_dirs()[:1]
        return self._change(f"Renamed the run to {name!r}", lambda d: run_meta.set_name(d, name), dirs)

    def delete_selected(self) -> bool:
        moved: list[Path] = []
        gone: set[str] = set()
        for d in self.selected_dirs():
            try:
                moved.append(run_trash.delete_run(d))
                gone.add(d)
            except (run_trash.TrashError, OSError) as exc:
                self._set_status(f"{exc}", error=True)
                break
        if not moved:
            return False

        def undo() -> None:
            for path in moved:
                run_trash.restore_run(path)

        self.rows = [r for r in self.rows if r.run_dir not in gone]  # gone at once; the refresh confirms it
        self.model.set_rows(self.rows, self.columns(), self.model.known or [])
        self._push_undo(f"Moved {len(moved)} run(s) to {moved[0].parent}", undo)
        return True

    @Slot()
    def undo(self) -> None:
        if not self._undo:
            return
        what, undo = self._undo.pop()
        try:
            undo()
        except (OSError, ValueError) as exc:
            self._set_status(f"Could not undo ({what}): {exc}", error=True)
        else:
            self._set_status(f"Undone: {what}.")
        self._update_buttons()
        self.refresh()

    def _ask_tag(self) -> None:
        tag, ok = QInputDialog.getText(self, "Tag runs", "Tag (one word):")
        if ok and tag.strip():
            self.tag_selected(tag)

    def _ask_note(self) -> None:
        rows = self.selected_rows()
        old = rows[0].get("note") if len(rows) == 1 else ""
        text, ok = QInputDialog.getMultiLineText(self, "Note", "Note for the selected run(s):", old or "")
        if ok:
            self.note_selected(text)

    def _ask_name(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        name, ok = QInputDialog.getText(self, "Rename run", "Display name (the folder keeps its name):",
                                        text=rows[0].get("name") or "")
        if ok:
            self.rename_selected(name)

    # ---- export ------------------------------------------------------------------------------------

    def export(self, path: str, kind: str) -> None:
        """Write the rows shown, with the columns shown, as CSV or Markdown."""
        rows, columns = list(self.model.rows), self.columns()
        text = run_export.to_csv(rows, columns) if kind == "csv" else run_export.to_markdown(rows, columns)
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            self._set_status(f"Could not write {path}: {exc.strerror or exc}; choose another place.", error=True)
            return
        self._set_status(f"Wrote {len(rows)} runs to {path}.")

    def _ask_export(self, kind: str) -> None:
        pattern = "CSV (*.csv)" if kind == "csv" else "Markdown (*.md)"
        path, _ = QFileDialog.getSaveFileName(self, "Export runs table", f"runs.{kind}", pattern)
        if path:
            self.export(path, kind)

    # ---- open, overlay, resume ----------------------------------------------------------------------

    @Slot(QModelIndex)
    def _on_double_clicked(self, index: QModelIndex) -> None:
        self._read([self.model.row_at(index.row()).run_dir], "open")

    @Slot()
    def open_selected(self) -> None:
        self._read(self.selected_dirs()[:1], "open")

    @Slot()
    def overlay_selected(self) -> None:
        self._read(self.selected_dirs(), "overlay")

    @Slot()
    def resume_selected(self) -> None:
        self._read(self.selected_dirs()[:1], "resume")

    def open_run(self, run_dir: str) -> None:
        self._read([run_dir], "open")

    def overlay_runs(self, run_dirs: list[str]) -> None:
        self._read(run_dirs, "overlay")

    def _read(self, dirs: list[str], action: str) -> None:
        if not dirs:
            return
        self._pending_action = action
        self.tasks.start(  # a newer open/overlay/resume supersedes this one
            _read_runs, tuple(dirs), name="read-run", on_success=self._on_read, on_failure=self._on_failed,
        )

    @Slot(object)
    def _on_read(self, details: tuple) -> None:
        action, self._pending_action = self._pending_action, None
        details = list(details)
        if not details:
            return
        if action == "open":
            self.open_requested.emit(details[0])
        elif action == "overlay":
            self.overlay_requested.emit(details)
        elif action == "resume":
            self.resume_requested.emit(details[0])


def _read_runs(dirs: tuple[str, ...]) -> tuple[RunDetails, ...]:
    return tuple(read_run(d) for d in dirs)


if __name__ == "__main__":
    from workbench.gui.standalone import run_panel

    def _make() -> RunsPanel:
        panel = RunsPanel()
        panel.refresh()
        return panel

    run_panel(_make, "Runs")
