"""The Queue tab: queued runs trained one after another on the training worker, and the report's table.

Each item runs through the Training tab's own ``start`` (same worker thread, same live plots), so a
queued run looks like any other run there. The bookkeeping is the core's (``QueueRunner``: the
runner lock, the run folder chosen before training, resume of an interrupted item, failed items
skipped), so the window and ``workbench queue run`` behave the same and never run the queue twice.
A stopped run (Stop, or closing the window) ends the queue; it resumes first when the queue runs again.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.runs.queue import QueueError, QueueItem, QueueState, RunQueue
from workbench.core.runs.queue_runner import QueueRunner
from workbench.core.text import sanitize
from workbench.core.training.config import TrainConfig
from workbench.core.training.events import (
    BatchProgress,
    EpochEnded,
    FinishingProgress,
    TrainingFailed,
    TrainingStarted,
    TrainingStopped,
)
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.flow_row import FlowRow
from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.report_table import ReportTable
from workbench.gui.widgets.rich_text import html_text

REFRESH_MS = 2000  # picks up `workbench queue add` from a terminal while the window is open
COLUMNS = ("#", "Status", "Network", "Dataset", "Epochs", "Run folder / message")
STATUS_TEXT = {"queued": "queued", "running": "running", "done": "done", "failed": "failed",
               "stopped": "stopped (resumes)"}
STATUS_COLOUR = {"running": "#1f6feb", "done": "#1a7f37", "failed": "#cf222e", "stopped": "#9a6700"}


def _report_rows(runs_root: str | None) -> list:
    """Worker-thread function: the report table from the run folders."""
    from workbench.core.runs.report_table import report_table

    return report_table(runs_root)


def _report_plan(dataset: str, runs_root: str | None):
    """Worker-thread function: the report's runs with time estimates and missing data."""
    from workbench.core.runs.report_plan import plan_report

    return plan_report(dataset, runs_root)


class QueuePanel(QWidget):
    status_message = Signal(str)
    queue_running_changed = Signal(bool)
    report_data_wanted = Signal(str, str)  # ("download" or "open", dataset id): from the report's question

    def __init__(self, training, queue: RunQueue | None = None, runs_root: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.training = training  # the Training tab: its start() and running_changed drive each item
        self.queue = queue or RunQueue()
        self.runs_root = runs_root
        self.tasks = PanelTasks(self)
        self.runner = QueueRunner(self.queue)
        self._active = False  # this window is working the queue off
        self._current: tuple[QueueItem, TrainConfig] | None = None
        self._state = QueueState()
        self._steps, self._epochs = 1, 0  # of the run in progress, for the progress bar
        self._epochs_seen = 0  # the epoch its last batch belonged to (1-based)
        self._report_loaded = False

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.run_button = QPushButton("&Run queue")
        self.run_button.setToolTip("Train the queued runs one after another (an interrupted one resumes first)")
        self.pause_button = QPushButton("&Pause after this run")
        self.up_button = QPushButton("Move &up")
        self.down_button = QPushButton("Move &down")
        self.remove_button = QPushButton("Re&move")
        self.clear_done_button = QPushButton("Clear &finished")
        self.clear_button = QPushButton("Clear &all")
        self.clear_button.setToolTip("Remove every item (a run in progress stays)")
        self.progress = QProgressBar()
        self.progress.setFormat("idle")
        self.state_label = MessageLabel()

        buttons = FlowRow()  # wraps when the tab is narrow
        for b in (self.run_button, self.pause_button, self.up_button, self.down_button, self.remove_button,
                  self.clear_done_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.progress)
        top_layout.addWidget(self.state_label)
        top_layout.addWidget(self.table, 1)

        self.report = ReportTable()
        self.report_button = QPushButton("Queue the report's runs")
        self.report_button.setToolTip("Queue the course report's networks on CIFAR-10 and CIFAR-100 with its "
                                      "settings (Adam, batch 256, 30 epochs, validation split 0.2)")
        self.report_dataset = QComboBox()
        for text, value in (("CIFAR-10 and CIFAR-100", "both"), ("CIFAR-10", "cifar10"), ("CIFAR-100", "cifar100")):
            self.report_dataset.addItem(text, value)
        self.report_refresh_button = QPushButton("Refresh table")
        box = QGroupBox("The report's table: our runs beside the report's figures (shaded); — until a run finishes")
        box_layout = QVBoxLayout(box)
        report_buttons = QHBoxLayout()
        for w in (self.report_button, self.report_dataset, self.report_refresh_button):
            report_buttons.addWidget(w)
        report_buttons.addStretch(1)
        box_layout.addLayout(report_buttons)
        box_layout.addWidget(self.report)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(box)
        splitter.setStretchFactor(0, 1)  # at 1280×720 the report's six rows fit without scrolling
        splitter.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(splitter)

        self.run_button.clicked.connect(self.run_queue)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(+1))
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_done_button.clicked.connect(lambda: self.clear(finished_only=True))
        self.clear_button.clicked.connect(lambda: self.clear(finished_only=False))
        self.report_button.clicked.connect(lambda: self.ask_report(self.report_dataset.currentData()))
        self.report_refresh_button.clicked.connect(self.refresh_report)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.training.running_changed.connect(self._on_training_running)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._poll)
        self._seen: tuple[int, int] | None = None  # queue.json's (mtime_ns, size) when last shown
        self._timer.start()
        self.refresh()

    # --- state ----------------------------------------------------------------------------------
    def is_active(self) -> bool:
        return self._active

    def state(self) -> QueueState:
        return self._state

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.queue.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    @Slot()
    def _poll(self) -> None:
        if self._stamp() != self._seen:  # changed by a terminal's `workbench queue …`: read it again
            self.refresh()

    def refresh(self) -> None:
        """Read queue.json again and show it; a broken file is one sentence and Clear all."""
        self._seen = self._stamp()
        try:
            self._state = self.queue.state()
            problem = ""
        except QueueError as exc:
            self._state, problem = QueueState(), str(exc)
        selected = self._selected_id()
        self.table.setRowCount(len(self._state.items))
        for r, item in enumerate(self._state.items):
            c = item.config
            network = c.arch + (f" ({', '.join(f'{k}={v}' for k, v in sorted(c.arch_options.items()))})"
                                if c.arch_options else "")
            where = item.message or (Path(item.run_dir).name if item.run_dir else "")
            texts = (str(r + 1), STATUS_TEXT[item.status], network, c.dataset,
                     str(c.epochs) + (f" · {c.limit} images" if c.limit else ""), where)
            for col, text in enumerate(texts):
                cell = QTableWidgetItem(sanitize(text, 300))
                cell.setData(Qt.ItemDataRole.UserRole, item.id)
                cell.setToolTip(sanitize("\n".join(filter(None, (item.label, item.run_dir, item.message))), 2000))
                if col == 1 and item.status in STATUS_COLOUR:
                    cell.setForeground(QColor(STATUS_COLOUR[item.status]))
                self.table.setItem(r, col, cell)
            if item.id == selected:
                self.table.selectRow(r)
        self._show_state(problem)
        self._update_buttons()

    def _show_state(self, problem: str) -> None:
        if problem:
            self.state_label.setText(f"<span style='color:#cf222e'>{html_text(problem)}</span>")
            return
        waiting = sum(1 for i in self._state.items if i.status in ("queued", "stopped", "running"))
        if self._active and self._current:
            text = f"Running {self._current[0].config.arch} on {self._current[0].config.dataset}"
            text += f"; {waiting - 1} more waiting" if waiting > 1 else "; the last one in the queue"
            if self._state.paused:
                text += " — paused: the queue stops after this run"
        elif self._state.paused and waiting:
            text = f"Paused: {waiting} waiting. Resume to go on."
        elif waiting:
            text = f"{waiting} waiting. Run queue trains them one after another."
        else:
            text = "The queue is empty. Add runs with “Add to queue” below the experiment settings."
        self.state_label.setText(html_text(text))

    def _update_buttons(self) -> None:
        row = self._selected_row()
        n = len(self._state.items)
        waiting = any(i.status in ("queued", "stopped", "running") for i in self._state.items)
        self.run_button.setEnabled(not self._active and waiting)
        self.pause_button.setText("Resu&me" if self._state.paused else "&Pause after this run")
        # Something to pause: this window's queue, or a queue run from a terminal (an item is running).
        running = self._active or any(i.status == "running" for i in self._state.items)
        self.pause_button.setEnabled(running or self._state.paused)
        self.up_button.setEnabled(row is not None and row > 0)
        self.down_button.setEnabled(row is not None and row < n - 1)
        current = self._current[0].id if self._current else None
        self.remove_button.setEnabled(row is not None and self._state.items[row].id != current)
        self.clear_done_button.setEnabled(any(i.status in ("done", "failed") for i in self._state.items))

    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows and rows[0].row() < len(self._state.items) else None

    def _selected_id(self) -> str | None:
        row = self._selected_row()
        return self._state.items[row].id if row is not None else None

    def select(self, item_id: str) -> None:
        for r, item in enumerate(self._state.items):
            if item.id == item_id:
                self.table.selectRow(r)

    # --- edits ----------------------------------------------------------------------------------
    def _edit(self, fn, done: str = "") -> bool:
        try:
            fn()
        except QueueError as exc:
            self.status_message.emit(str(exc))
            self.refresh()
            return False
        if done:
            self.status_message.emit(done)
        self.refresh()
        return True

    @Slot(object)
    def add_config(self, config: TrainConfig, label: str = "") -> QueueItem | None:
        """Queue a run (from the experiment form's "Add to queue"); refused runs are one sentence."""
        from workbench.core.datasets import DatasetError
        from workbench.core.training.inputs import input_problem_for

        try:
            problem = input_problem_for(config)  # refused now, not when the queue reaches it
        except DatasetError as exc:
            problem = str(exc)
        if problem:
            self.status_message.emit(f"Cannot queue: {problem}")
            return None
        added: list[QueueItem] = []
        if not self._edit(lambda: added.append(self.queue.add(config, label=label)),
                          f"Queued {config.arch} on {config.dataset}."):
            return None
        return added[0]

    def move_selected(self, step: int) -> None:
        row = self._selected_row()
        if row is None:
            return
        item_id = self._state.items[row].id
        self._edit(lambda: self.queue.move(item_id, row + 1 + step))
        self.select(item_id)

    def remove_selected(self) -> None:
        item_id = self._selected_id()
        if item_id is not None:
            self._edit(lambda: self.queue.remove(item_id), "Removed the item from the queue.")

    def clear(self, finished_only: bool = False) -> None:
        self._edit(lambda: self.queue.clear(finished_only=finished_only),
                   "Cleared the finished items." if finished_only else "Cleared the queue.")

    @Slot()
    def ask_report(self, dataset: str = "both") -> None:
        """Ask before queueing the report's runs: the runs, an estimate of their time here and the missing
        data (ReportDialog, opened once the run folders have been read)."""
        self.status_message.emit("Estimating the report's runs from the runs folder…")
        self.tasks.start(_report_plan, dataset, self.runs_root, name="report-plan",
                         on_success=lambda plan: self._show_report_question(dataset, plan),
                         on_failure=self._on_report_failed)

    def _show_report_question(self, dataset: str, plan) -> None:
        from workbench.gui.widgets.report_dialog import QUEUE_WITH_DATA, ReportDialog

        dialog = ReportDialog(plan, self)
        self.report_dialog = dialog  # kept for tests and so it is not collected while open

        def answered(result: int) -> None:
            if result == ReportDialog.DialogCode.Accepted:
                with_data = dialog.choice == QUEUE_WITH_DATA
                skip = {r.spec.dataset for r in plan.runs if r.data_missing} if with_data else set()
                self.queue_report(dataset, skip=skip)
            else:
                self.status_message.emit("Nothing was queued.")

        dialog.finished.connect(answered)
        dialog.download_requested.connect(lambda d: self.report_data_wanted.emit("download", d))
        dialog.open_requested.connect(lambda d: self.report_data_wanted.emit("open", d))
        dialog.open()

    def queue_report(self, dataset: str = "both", skip: set[str] | frozenset[str] = frozenset()) -> None:
        """Queue the report's runs at once, leaving out those on the datasets in ``skip``."""
        from workbench.core.runs.report_table import DATASETS, report_runs

        where = {"runs_root": self.runs_root} if self.runs_root else {}
        entries = [(spec.config(**where), spec.label) for spec in report_runs(dataset) if spec.dataset not in skip]
        left_out = f" (left out: the {', '.join(DATASETS[d] for d in sorted(skip))} runs, data missing)" if skip else ""
        self._edit(lambda: self.queue.add_many(entries),
                   f"Queued the report's {len(entries)} runs{left_out}; Run queue trains them (30 epochs each).")

    # --- running ----------------------------------------------------------------------------------
    @Slot()
    def toggle_pause(self) -> None:
        paused = not self._state.paused
        if self._edit(lambda: self.queue.set_paused(paused),
                      "The queue stops after the current run." if paused else "The queue is no longer paused."):
            if not paused and not self._active and self._current is None:
                self.run_queue()

    @Slot()
    def run_queue(self) -> bool:
        """Start working the queue off in this window (unpausing it); False when it cannot start."""
        if self._active:
            return False
        if self._state.paused and not self._edit(lambda: self.queue.set_paused(False)):
            return False
        try:
            self.runner.acquire()
        except QueueError as exc:
            self.status_message.emit(str(exc))
            return False
        self._active = True
        self.queue_running_changed.emit(True)
        self._start_next()
        return True

    def _start_next(self) -> None:
        if not self._active or self._current is not None:
            return
        if self.training.is_running():
            return  # a run started by hand is training: the queue goes on when it ends
        try:
            item = self.runner.next_item()
        except QueueError as exc:
            self._stop_queue(str(exc))
            return
        if item is None:
            self._stop_queue("The queue is paused." if self.queue_paused() else "The queue is done.")
            return
        started = self.runner.begin(item)
        if started is None:  # its run folder could not be created: marked failed, on to the next
            self.refresh()
            QTimer.singleShot(0, self._start_next)
            return
        self._current = started
        if not self.training.start(started[1]):
            self._current = None
            self.runner.end(started[0], started[1], TrainingFailed(message="The training tab could not start it."))
            QTimer.singleShot(0, self._start_next)
            return
        self.training.worker.event.connect(self._on_event)
        self.progress.setRange(0, 0)
        self.progress.setFormat(f"starting {started[1].arch} on {started[1].dataset}…")
        self.refresh()

    def queue_paused(self) -> bool:
        try:
            return self.queue.state().paused
        except QueueError:
            return False

    def _stop_queue(self, why: str) -> None:
        self._active = False
        self.runner.release()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.refresh()
        self.refresh_report()
        self.status_message.emit(why)
        self.queue_running_changed.emit(False)

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, TrainingStarted):
            self.progress.setRange(0, max(1, event.epochs * event.steps_per_epoch))
            self.progress.setValue(event.initial_epoch * event.steps_per_epoch)
            self._steps = event.steps_per_epoch
            self._epochs = event.epochs
        elif isinstance(event, BatchProgress):
            self.progress.setValue(event.epoch * event.steps + event.batch)
            self._epochs_seen = event.epoch + 1
            self.progress.setFormat(f"epoch {event.epoch + 1}/{self._epochs} · %p%")
        elif isinstance(event, EpochEnded):
            self.progress.setValue((event.epoch + 1) * self._steps)
        elif isinstance(event, FinishingProgress):  # validation, the final test, saving: named, not frozen
            self.progress.setFormat(f"epoch {self._epochs_seen}/{self._epochs} · {event.phase} "
                                    f"{event.done:,}/{event.total:,}")

    @Slot(bool)
    def _on_training_running(self, running: bool) -> None:
        if running:
            return
        if self._current is None:
            QTimer.singleShot(0, self._start_next)  # a run by hand ended while the queue waited
            return
        item, config = self._current
        self._current = None
        final = self.training.final_event or TrainingFailed(message="The training thread ended without a final report.")
        done = self.runner.end(item, config, final)
        self.refresh()
        if isinstance(final, TrainingStopped):
            self._stop_queue("The queue stopped with its run; that run resumes when the queue runs again.")
        elif done.status == "failed":
            self.status_message.emit(f"A queued run failed: {done.message} The queue goes on.")
            QTimer.singleShot(0, self._start_next)
        else:
            self.refresh_report()  # a finished run may fill a row of the report's table
            QTimer.singleShot(0, self._start_next)

    # --- report table -----------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if not self._report_loaded:  # read the run folders once the tab is first looked at, not at startup
            self.refresh_report()

    @Slot()
    def refresh_report(self) -> None:
        self._report_loaded = True
        self.tasks.start(_report_rows, self.runs_root, name="report", on_success=self.report.set_rows,
                         on_failure=self._on_report_failed)

    def _on_report_failed(self, error: TaskError) -> None:
        self.status_message.emit(f"The report table could not be read: {error.message}")

    def shutdown(self) -> None:
        self._timer.stop()
        self.runner.release()

