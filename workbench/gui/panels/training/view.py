"""The training tab's widgets and how engine events look in them: buttons, progress with ETA and
images/s, live plots, the epoch log and the probe images. No control here (see panel.py)."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.core.text import count_of
from workbench.core.training.events import (
    BatchProgress,
    EpochEnded,
    FinishingProgress,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)
from workbench.gui.panels.training.progress import RunClock, final_phase_label
from workbench.gui.panels.training.resume_offer import ResumeOfferBar
from workbench.gui.panels.training.text import ended_text, epoch_line, format_duration, pct, started_lines
from workbench.gui.widgets.flow_row import FlowRow
from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.plots import TrainingPlots
from workbench.gui.widgets.prob_bars import ProbeStrip
from workbench.gui.widgets.rich_text import html_text

LABEL_INTERVAL_S = 0.5  # batch progress labels (progress bar, ETA, speed) update at most twice a second
PROBE_COLUMNS = 9  # 25 probes in three rows: the log beside them keeps half the width
PROBE_SIZE = 40
PROBE_IDLE_TEXT = ("<b>Probe images</b> — when a run starts, 25 fixed test images appear here with the "
                   "network's guess for each after every epoch.")
ERROR_COLOUR = "#b00020"
START_TOOLTIP = "Start training with the settings on the left (Ctrl+R)"


class TrainingView(QWidget):
    """The widgets, laid out; ``show_*`` methods draw one engine event each. Buttons are connected by
    the panel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.started: TrainingStarted | None = None
        self._t0 = 0.0
        self.clock = RunClock()  # measured speeds, for an ETA that counts the test and the saving
        self._last_batch_epoch = -1
        self._showing_failure = False  # the result line holds a failure, which another dataset makes stale
        self.start_button = QPushButton("▶ &Start")
        self.start_button.setObjectName("startButton")
        self.start_button.setToolTip(START_TOOLTIP)
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setToolTip("Stop after the current batch; the model so far is kept (Esc)")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the stopped run from its last completed epoch")
        self.save_button = QPushButton("Save model…")
        self.save_button.setToolTip("Save the trained model as .h5 or .keras (Ctrl+S)")
        self.export_button = QPushButton("Export plots…")
        self.csv_button = QPushButton("Export history CSV…")
        self.evaluate_button = QPushButton("Evaluate this model")
        self.evaluate_button.setObjectName("evaluateModelButton")
        self.evaluate_button.setToolTip("Open the trained model in the Evaluate tab, on this run's test split")
        self.classify_button = QPushButton("Classify…")
        self.classify_button.setToolTip("Open the trained model in the Classify tab")
        buttons = FlowRow()  # wraps when the tab is narrow
        for b in (self.start_button, self.stop_button, self.resume_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.save_button, self.export_button, self.csv_button):
            buttons.addWidget(b)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.progress.setTextVisible(True)
        self.epoch_label = QLabel("epoch –")
        self.elapsed_label = QLabel("elapsed –")
        self.eta_label = QLabel("ETA –")
        self.speed_label = QLabel("– images/s")
        stats = FlowRow()
        for w in (self.epoch_label, self.elapsed_label, self.eta_label, self.speed_label):
            stats.addWidget(w)
            stats.addSpacing(18)
        stats.addStretch(1)
        self.result_label = MessageLabel("")  # wraps: a long failure never widens the window
        self.result_label.setObjectName("resultLabel")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.plots = TrainingPlots()
        self.wall_axis = QCheckBox("wall time on the x axis")
        self.wall_axis.setToolTip("Plot against the time since training started instead of epochs "
                                  "(remembered for the next start)")
        self.wall_axis.toggled.connect(lambda on: self.plots.set_x_axis("wall" if on else "epoch"))
        stats.addWidget(self.wall_axis)  # after the stretch: at the right end of the figures
        self._last_wall: float | None = None  # wall time of the last epoch, for the test point
        # BatchProgress labels are coalesced: only the latest one is shown, at most every LABEL_INTERVAL_S
        # (each progress-bar/label repaint is GUI-thread time taken from the training thread)
        self._pending_batch: BatchProgress | FinishingProgress | None = None
        self._labels_at = 0.0
        self._label_timer = QTimer(self)
        self._label_timer.setSingleShot(True)
        self._label_timer.timeout.connect(self._flush_batch_labels)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        mono = QFont("Monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        mono.setPointSize(9)
        self.log.setFont(mono)
        # 25 fixed test images and what the network calls them after each epoch
        self.probe_title = QLabel(PROBE_IDLE_TEXT)
        self.probe_title.setObjectName("probeTitle")
        self.probe_title.setWordWrap(True)
        self.probes = ProbeStrip(columns=PROBE_COLUMNS, image_size=PROBE_SIZE)
        probe_box = QWidget()
        pl = QVBoxLayout(probe_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(2)
        pl.addWidget(self.probe_title)
        pl.addWidget(self.probes)
        pl.addStretch(1)
        self.probe_box = probe_box
        # Always there and always this wide: the log beside it never jumps (or loses its scroll position).
        probe_box.setFixedWidth(self.probes.full_width() + 4)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.log)
        bottom.addWidget(probe_box)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 0)
        bottom.setCollapsible(1, False)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.plots)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        self.offer_bar = ResumeOfferBar()  # a run cut short, offered for resuming (resume_offer.py)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.offer_bar)
        layout.addWidget(self.progress)
        layout.addLayout(stats)
        result_row = QHBoxLayout()  # the run's result, and where its model can go next
        result_row.addWidget(self.result_label, 1)
        result_row.addWidget(self.evaluate_button)
        result_row.addWidget(self.classify_button)
        layout.addLayout(result_row)
        layout.addWidget(splitter, 1)


    # ---- engine events, drawn ---------------------------------------------------------------------
    def show_starting(self, text: str) -> None:
        """A run is about to start: clear the last run's result and probes, note ``text`` in the log."""
        self.started = None
        self.result_label.setText("")
        self._showing_failure = False
        self.clear_probes()
        self.clear_stats()  # the last run's speed and time are not this one's
        self.plots.set_top5_note(None)  # TrainingStarted says again whether top-5 means anything
        self.progress.setValue(0)
        self.progress.setFormat("starting… (loading data and building the model)")
        self._t0 = time.monotonic()
        self.log_line(text)

    def show_started(self, e: TrainingStarted) -> None:
        self.started = e
        self.clock = RunClock(e)
        self.log_line(started_lines(e))
        self.progress.setFormat(f"epoch {e.initial_epoch + 1}/{e.epochs}" if not e.minutes
                                else f"epoch {e.initial_epoch + 1} · {e.minutes:g}-minute budget")
        self.plots.set_top5_note(e.top5_note)
        # the x axis stays the user's choice; under a budget the epoch count is only a cap
        self.plots.set_epoch_span(e.epochs, budget_s=e.minutes * 60 if e.minutes else None)
        if e.probe_images is not None and len(e.probe_labels):
            self.probes.set_probes(e.probe_images, e.probe_labels, e.class_names)
            self.probe_title.setText(
                f"<b>Probe images</b> — {len(e.probe_labels)} fixed test images; "
                "the label under each is the network's guess after the last epoch (green right, red wrong)"
            )

    def show_batch(self, e: BatchProgress) -> None:
        steps = max(1, e.steps)
        self.plots.add_batch(e.epoch + e.batch / steps, e.loss, e.top1, e.top5, wall=e.elapsed)
        self._pending_batch = e
        wait = LABEL_INTERVAL_S - (time.monotonic() - self._labels_at)
        if wait <= 0:
            self._flush_batch_labels()
        elif not self._label_timer.isActive():
            self._label_timer.start(int(wait * 1000) + 1)

    def show_phase(self, e: FinishingProgress) -> None:
        """Validation, the final test or the saving: labels coalesced like a batch's."""
        self.clock.note_phase(e)
        self._pending_batch = e
        wait = LABEL_INTERVAL_S - (time.monotonic() - self._labels_at)
        if wait <= 0 or e.done >= e.total:
            self._flush_batch_labels()
        elif not self._label_timer.isActive():
            self._label_timer.start(int(wait * 1000) + 1)

    def _show_phase_labels(self, e: FinishingProgress) -> None:
        s = self.started
        last = s is not None and not s.minutes and self._last_batch_epoch + 1 >= s.epochs
        eta = self.clock.phase_eta(e, last_epoch=last)
        if eta is not None:
            self.eta_label.setText(f"ETA {format_duration(eta)}")
        epoch = f"epoch {self._last_batch_epoch + 1}" + (f"/{s.epochs}" if s is not None and not s.minutes else "")
        if eta is None:  # an ordinary epoch's validation: the bar keeps counting the run's batches
            self.progress.setFormat(f"{epoch} · {final_phase_label(e)}")
        else:  # after the last batch the bar follows the phase itself
            self.progress.setValue(int(1000 * e.done / max(1, e.total)))
            self.progress.setFormat(final_phase_label(e))
        self.epoch_label.setText(f"{epoch} · {e.phase}" if e.phase == "validating" else e.phase)
        self.elapsed_label.setText(f"elapsed {format_duration(e.elapsed)}")

    @Slot()
    def _flush_batch_labels(self) -> None:
        """Show the latest pending BatchProgress (or FinishingProgress) in the progress bar and labels."""
        self._label_timer.stop()
        e, self._pending_batch = self._pending_batch, None
        if e is None:
            return
        self._labels_at = time.monotonic()
        if isinstance(e, FinishingProgress):
            self._show_phase_labels(e)
            return
        self._last_batch_epoch = e.epoch
        self.clock.note_training_speed(e.images_per_sec)
        steps = max(1, e.steps)
        budget = self.started.minutes * 60 if self.started is not None and self.started.minutes else None
        if budget:  # a time budget: progress is the time spent of it
            self.progress.setValue(int(1000 * min(1.0, e.elapsed / budget)))
            self.eta_label.setText(f"ETA {format_duration(max(0.0, budget - e.elapsed) + self.clock.final_seconds())}")
            self.progress.setFormat(f"epoch {e.epoch + 1} · batch {e.batch}/{steps} · "
                                    f"{self.started.minutes:g}-minute budget")
        elif self.started is not None:
            first = self.started.initial_epoch
            total = max(1, (self.started.epochs - first) * steps)
            done = (e.epoch - first) * steps + e.batch
            self.progress.setValue(int(1000 * min(1.0, done / total)))
            if done > 0:  # the batches left, then the passes over the test images after the last epoch
                left = e.elapsed / done * (total - done) + self.clock.final_seconds()
                self.eta_label.setText(f"ETA {format_duration(left)}")
            self.progress.setFormat(f"epoch {e.epoch + 1}/{self.started.epochs} · batch {e.batch}/{steps}")
        self.epoch_label.setText(f"epoch {e.epoch + 1} · batch {e.batch}/{steps}")
        self.elapsed_label.setText(f"elapsed {format_duration(e.elapsed)}")
        self.speed_label.setText(f"{e.images_per_sec:,.0f} images/s")

    def show_epoch(self, e: EpochEnded) -> None:
        self._flush_batch_labels()  # the epoch's last batch first, then the epoch's own updates
        self.plots.add_epoch(
            float(e.epoch + 1),
            {"top1": e.top1, "top5": e.top5, "loss": e.loss},
            {"top1": e.val_top1, "top5": e.val_top5, "loss": e.val_loss},
            e.is_best, wall=e.wall_seconds,
        )
        self._last_wall = e.wall_seconds
        self.log_line(epoch_line(e, self.started.minutes if self.started is not None else None))
        if e.probe_predictions and len(self.probes.true_labels):
            self.probes.set_predictions(e.probe_predictions, e.probe_confidences or None)
            acc = self.probes.accuracy()
            if acc is not None:
                right = int(round(acc * len(self.probes.true_labels)))
                self.probe_title.setText(
                    f"<b>Probe images</b> after epoch {e.epoch + 1}: <b>{right} of {len(self.probes.true_labels)}</b> "
                    "right (green right, red wrong; hover for the true label)"
                )
        if self.started is not None and not self.started.minutes:
            total = max(1, self.started.epochs - self.started.initial_epoch)
            self.progress.setValue(int(1000 * min(1.0, (e.epoch + 1 - self.started.initial_epoch) / total)))

    def show_final(self, e: object) -> str:
        """Draw the run's final event; returns the one-line status for the window."""
        self._flush_batch_labels()
        seconds = time.monotonic() - self._t0  # this part's; the engine's figure counts the whole run
        self.eta_label.setText("ETA –")  # nothing is left: a frozen estimate would say otherwise
        self.elapsed_label.setText(f"elapsed {format_duration(seconds)}")
        self.epoch_label.setText(f"{count_of(getattr(e, 'epochs_completed', 0), 'epoch')} done")  # not the last phase
        status = ""
        if isinstance(e, TrainingFinished):
            self.plots.set_test(float(e.epochs_completed), {"top1": e.test_top1, "top5": e.test_top5,
                                                             "loss": e.test_loss}, wall=self._last_wall)
            note = self.plots.top5_note
            ended = ended_text("Finished", e.epochs_completed, e.wall_seconds, seconds)
            self.result_label.setText(
                f"{ended} — test top-1 <b>{pct(e.test_top1)}</b> · "
                + (f"<i>{html_text(note)}</i>" if note else f"top-5 <b>{pct(e.test_top5)}</b>")
            )
            self.log_line(
                f"Finished after {count_of(e.epochs_completed, 'epoch')}: test top-1 {pct(e.test_top1)}"
                + ("" if note else f", top-5 {pct(e.test_top5)}") + f". Model: {e.model_path}"
            )
            self.progress.setValue(1000)
            self.progress.setFormat("finished")
            status = f"Finished: test top-1 {pct(e.test_top1)}"
        elif isinstance(e, TrainingStopped):
            msg = f"Stopped after {count_of(e.epochs_completed, 'completed epoch')}."
            if e.test_top1 is not None:
                msg += f" Test top-1 {pct(e.test_top1)}" + (f", top-5 {pct(e.test_top5)}." if e.test_top5 is not None
                                                            else ".")
                self.plots.set_test(float(e.epochs_completed), {"top1": e.test_top1, "top5": e.test_top5})
            self.result_label.setText(msg + " Resume continues from the last completed epoch.")
            self.log_line(msg + (f" Model: {e.model_path}" if e.model_path else " No model was saved."))
            self.progress.setFormat("stopped")
            status = "Stopped."
        elif isinstance(e, TrainingFailed):
            kind = "Training diverged" if e.diverged else "Training failed"
            self.result_label.setText(f"<span style='color:{ERROR_COLOUR}'><b>{kind}:</b> {html_text(e.message)}</span>")
            self._showing_failure = True
            self.log_line(f"{kind}: {e.message}")
            if e.details:
                self.log_line(e.details.rstrip())
            self.progress.setFormat("failed")
            status = f"{kind}: {e.message}"
        self.plots.refresh()
        return status

    def show_error(self, text: str) -> None:
        """A failure of the tab's own work (e.g. a save): in the result line, in red, and in the log."""
        self.result_label.setText(f"<span style='color:{ERROR_COLOUR}'>{html_text(text)}</span>")
        self._showing_failure = True
        self.log_line(text)

    def clear_failure(self) -> None:
        """Forget a failure shown in the result line (it stays in the log): the settings changed."""
        if self._showing_failure:
            self._showing_failure = False
            self.result_label.setText("")

    def clear_probes(self) -> None:
        self.probes.set_probes(np.zeros((0, 32, 32, 3), np.uint8), (), ())
        self.probe_title.setText(PROBE_IDLE_TEXT)

    def clear_stats(self) -> None:
        for label, text in ((self.epoch_label, "epoch –"), (self.elapsed_label, "elapsed –"),
                            (self.eta_label, "ETA –"), (self.speed_label, "– images/s")):
            label.setText(text)

    # ---- the log ----------------------------------------------------------------------------------
    def log_line(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        for line in text.splitlines() or [""]:
            self.log.appendPlainText(f"[{stamp}] {line}")

    def log_text(self) -> str:
        return self.log.toPlainText()

