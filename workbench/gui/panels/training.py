"""Training panel: Start / Stop / Resume, progress with ETA and images/s, live plots, epoch log,
final test metrics, saving the model and exporting plots and history.

The engine runs in a TrainingWorker on its own QThread; its events arrive here through queued
signals into @Slot methods; Stop sets a threading.Event the engine reads after every batch.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from PySide6.QtCore import QThread, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.core.training.config import TrainConfig
from workbench.core.training.events import (
    BatchProgress,
    EpochEnded,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)
from workbench.gui.widgets.plots import TrainingPlots
from workbench.gui.widgets.prob_bars import ProbeStrip
from workbench.gui.worker import TaskError, TaskRunner, TrainingWorker


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _pct(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.1f} %"


@dataclass(frozen=True)
class ModelOffer:
    """A trained model handed from the training tab to Evaluate / Classify: plain paths and ids."""

    model_path: str
    dataset_id: str | None  # the dataset it was trained on (None: read it from the model file)
    data_dir: str | None
    test_limit: int = 0  # the first N test images the run was tested on; 0 = the whole split
    test_top1: float | None = None


def history_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """core.runs.read_history rows -> columns for the plots."""
    columns: dict[str, list] = {}
    for row in rows:
        for key, value in row.items():
            columns.setdefault(key, []).append(value)
    return columns


def convert_model(source: str, target: str) -> str:
    """Worker-thread function: re-save a model in the other format (.h5 <-> .keras) through core,
    keeping its metadata. Loading imports TensorFlow, on this worker thread only."""
    from workbench.core.modelio import load_any_model, read_metadata, save_model

    meta = read_metadata(source) or {}
    loaded = load_any_model(source)
    extra = {k: v for k, v in meta.items()
             if k not in ("format", "class_names", "dataset", "preprocessing", "input_shape", "output", "arch",
                          "workbench_version")}
    save_model(
        loaded.model, target,
        class_names=meta.get("class_names") or list(loaded.class_names),
        dataset_id=meta.get("dataset") or loaded.dataset_id or "",
        preprocessing=meta.get("preprocessing", "raw_0_255"),
        arch=meta.get("arch"),
        extra=extra or None,
    )
    return target


LABEL_INTERVAL_S = 0.5  # batch progress labels (progress bar, ETA, speed) update at most twice a second
PROBE_COLUMNS = 13  # 25 probes in two rows: fits beside the log
PROBE_SIZE = 40
PROBE_IDLE_TEXT = ("<b>Probe images</b> — when a run starts, 25 fixed test images appear here with the "
                   "network's guess for each after every epoch.")


class TrainingPanel(QWidget):
    running_changed = Signal(bool)
    run_started = Signal(str)  # run directory
    run_ended = Signal(object)  # the final event
    device_known = Signal(str)
    status_message = Signal(str)
    model_saved = Signal(str)
    save_failed = Signal(str)
    evaluate_requested = Signal(object)  # ModelOffer: "Evaluate this model"
    classify_requested = Signal(object)  # ModelOffer: "Classify with this model"

    def __init__(
        self,
        runner: TaskRunner | None = None,
        config_provider: Callable[[], TrainConfig] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner or TaskRunner(self)
        self.config_provider = config_provider or TrainConfig
        self.worker: TrainingWorker | None = None
        self.thread: QThread | None = None
        self.config: TrainConfig | None = None
        self.run_dir: str | None = None
        self.model_path: str | None = None
        self.final_event: object | None = None
        self.started: TrainingStarted | None = None
        self.epochs_done = 0
        self.test_metrics: dict[str, float | None] = {}
        self.ask_before_dialogs = True  # tests and screenshots turn message boxes off
        self._t0 = 0.0

        self.start_button = QPushButton("▶ &Start")
        self.start_button.setObjectName("startButton")
        self.start_button.setToolTip("Start training with the settings on the left (Ctrl+R)")
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
        self.evaluate_button.clicked.connect(self.request_evaluate)
        self.classify_button.clicked.connect(self.request_classify)
        self.start_button.clicked.connect(self.start_from_form)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.save_button.clicked.connect(self.save_model_dialog)
        self.export_button.clicked.connect(self.export_plots_dialog)
        self.csv_button.clicked.connect(self.export_history_dialog)
        buttons = QHBoxLayout()
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
        stats = QHBoxLayout()
        for w in (self.epoch_label, self.elapsed_label, self.eta_label, self.speed_label):
            stats.addWidget(w)
            stats.addSpacing(18)
        stats.addStretch(1)
        self.result_label = QLabel("")
        self.result_label.setObjectName("resultLabel")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.plots = TrainingPlots()
        # BatchProgress labels are coalesced: only the latest one is shown, at most every LABEL_INTERVAL_S
        # (each progress-bar/label repaint is GUI-thread time taken from the training thread)
        self._pending_batch: BatchProgress | None = None
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

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addLayout(stats)
        result_row = QHBoxLayout()  # the run's result, and where its model can go next
        result_row.addWidget(self.result_label, 1)
        result_row.addWidget(self.evaluate_button)
        result_row.addWidget(self.classify_button)
        layout.addLayout(result_row)
        layout.addWidget(splitter, 1)
        self._update_buttons()

    # --- state ----------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.thread is not None

    def can_resume(self) -> bool:
        return (
            not self.is_running()
            and self.config is not None
            and self.run_dir is not None
            and isinstance(self.final_event, TrainingStopped)
        )

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.resume_button.setEnabled(self.can_resume())
        has_model = bool(self.model_path) and not running
        self.save_button.setEnabled(has_model)
        self.evaluate_button.setEnabled(has_model)
        self.classify_button.setEnabled(has_model)
        self.csv_button.setEnabled(bool(self.run_dir) and (Path(self.run_dir) / "history.csv").exists())

    # --- start / stop / resume ------------------------------------------------------------------
    @Slot()
    def start_from_form(self) -> bool:
        try:
            config = self.config_provider()
        except ValueError as exc:
            self._log(f"Cannot start: {exc}")
            self.status_message.emit(f"Cannot start: {exc}")
            return False
        return self.start(config)

    def start(self, config: TrainConfig, *, keep_curves: bool = False) -> bool:
        """Start a run on a worker thread. Returns False (and logs why) when it cannot start."""
        if self.is_running():
            return False
        problems = config.problems()
        if problems:
            self._log("Cannot start: " + problems[0])
            return False
        self.config = config
        self.final_event = None
        self.started = None
        self.model_path = None
        self.test_metrics = {}
        self.result_label.setText("")
        self._clear_probes()
        if not keep_curves:
            self.plots.reset()
            self.plots.clear_overlays()
            self.run_dir = None
        self.progress.setValue(0)
        self.progress.setFormat("starting… (loading data and building the model)")
        self._t0 = time.monotonic()
        what = "Resuming" if config.resume else "Starting"
        self._log(
            f"{what} {config.arch} on {config.dataset}: {config.epochs} epochs, batch {config.batch_size}, "
            f"{config.optimizer} lr {config.learning_rate:g}"
            + (f", {config.limit} training images" if config.limit else "")
        )
        worker = TrainingWorker(config)
        worker.event.connect(self.on_event)
        self.worker = worker
        self.thread = self.runner.start(worker, "training", on_thread_finished=self._on_thread_finished)
        self.plots.start_live()
        self._update_buttons()
        self.running_changed.emit(True)
        self.status_message.emit(f"{what} training…")
        return True

    @Slot()
    def stop(self) -> None:
        if self.worker is not None and not self.worker.stop_event.is_set():
            self.worker.stop_event.set()
            self.progress.setFormat("stopping after this batch…")
            self._log("Stop requested; finishing the current batch and saving the model…")
            self.status_message.emit("Stopping…")

    @Slot()
    def resume(self) -> bool:
        if not self.can_resume():
            return False
        config = self.config.replace(resume=True, run_dir=self.run_dir)
        return self.start(config, keep_curves=True)

    def resume_run(self, run_dir: str, config: TrainConfig, history_rows: Sequence[Mapping[str, Any]] = ()) -> bool:
        """Resume an earlier run (from the runs panel); its saved curves are shown first."""
        if self.is_running():
            return False
        self.plots.clear_overlays()
        self.plots.set_history(history_columns(history_rows))
        self.run_dir = run_dir
        return self.start(config.replace(resume=True, run_dir=run_dir), keep_curves=True)

    def show_run(self, run_dir: str, history_rows: Sequence[Mapping[str, Any]], result: Mapping[str, Any] | None,
                 config: TrainConfig | None = None, resumable: bool = False) -> None:
        """Show a finished run's curves (not while training)."""
        if self.is_running():
            return
        self.plots.clear_overlays()
        self.plots.set_history(history_columns(history_rows))
        self._clear_probes()
        self.probe_title.setText("<b>Probe images</b> are followed while a run trains; an earlier run opened "
                                 "from the Runs tab does not keep them. Resume it to see them again.")
        self.run_dir = run_dir
        self.config = config
        self.progress.setValue(0)
        self.progress.setFormat(f"earlier run: {Path(run_dir).name}")
        for label, text in ((self.epoch_label, "epoch –"), (self.elapsed_label, "elapsed –"),
                            (self.eta_label, "ETA –"), (self.speed_label, "– images/s")):
            label.setText(text)
        result = dict(result or {})
        status = str(result.get("status", ""))
        model = result.get("model_path") or _existing(run_dir, ("model.h5", "model.keras"))
        self.model_path = str(model) if model else None
        self.final_event = None
        if (resumable or status == "stopped") and config is not None:
            self.final_event = TrainingStopped(run_dir, self.model_path, int(result.get("epochs_completed", 0) or 0))
        t1, t5 = result.get("test_top1"), result.get("test_top5")
        if t1 is not None:
            n = len(history_rows)
            self.plots.set_test(float(n), {"top1": t1, "top5": t5, "loss": result.get("test_loss")})
            self.plots.refresh()
            self.result_label.setText(f"Test top-1 <b>{_pct(t1)}</b> · top-5 <b>{_pct(t5)}</b>")
        else:
            self.result_label.setText("")
        self._log(f"Opened run {run_dir} ({len(history_rows)} epochs{', ' + status if status else ''}).")
        self._update_buttons()

    # --- events from the engine (queued from the worker thread) ---------------------------------
    @Slot(object)
    def on_event(self, event: object) -> None:
        if isinstance(event, BatchProgress):
            self._on_batch(event)
        elif isinstance(event, EpochEnded):
            self._on_epoch(event)
        elif isinstance(event, TrainingStarted):
            self._on_started(event)
        elif isinstance(event, (TrainingFinished, TrainingStopped, TrainingFailed)):
            self._on_final(event)

    def _on_started(self, e: TrainingStarted) -> None:
        self.started = e
        self.run_dir = e.run_dir
        self.epochs_done = e.initial_epoch
        self.device_known.emit(e.device)
        self._log(
            f"Run folder {e.run_dir}\nDevice: {e.device} · {e.params:,} parameters · "
            f"{e.train_images:,} training / {e.val_images:,} validation images · {e.steps_per_epoch} batches per epoch"
            + (f" · resuming at epoch {e.initial_epoch + 1}" if e.initial_epoch else "")
        )
        self.progress.setFormat(f"epoch {e.initial_epoch + 1}/{e.epochs}")
        self.plots.set_epoch_span(e.epochs)
        if e.probe_images is not None and len(e.probe_labels):
            self.probes.set_probes(e.probe_images, e.probe_labels, e.class_names)
            self.probe_title.setText(
                f"<b>Probe images</b> — {len(e.probe_labels)} fixed test images; "
                "the label under each is the network's guess after the last epoch (green right, red wrong)"
            )
        self.run_started.emit(e.run_dir)
        self._update_buttons()

    def _on_batch(self, e: BatchProgress) -> None:
        steps = max(1, e.steps)
        self.plots.add_batch(e.epoch + e.batch / steps, e.loss, e.top1, e.top5)
        self._pending_batch = e
        wait = LABEL_INTERVAL_S - (time.monotonic() - self._labels_at)
        if wait <= 0:
            self._flush_batch_labels()
        elif not self._label_timer.isActive():
            self._label_timer.start(int(wait * 1000) + 1)

    @Slot()
    def _flush_batch_labels(self) -> None:
        """Show the latest pending BatchProgress in the progress bar and labels."""
        self._label_timer.stop()
        e, self._pending_batch = self._pending_batch, None
        if e is None:
            return
        self._labels_at = time.monotonic()
        steps = max(1, e.steps)
        if self.started is not None:
            first = self.started.initial_epoch
            total = max(1, (self.started.epochs - first) * steps)
            done = (e.epoch - first) * steps + e.batch
            self.progress.setValue(int(1000 * min(1.0, done / total)))
            if done > 0:
                self.eta_label.setText(f"ETA {format_duration(e.elapsed / done * (total - done))}")
            self.progress.setFormat(f"epoch {e.epoch + 1}/{self.started.epochs} · batch {e.batch}/{steps}")
        self.epoch_label.setText(f"epoch {e.epoch + 1} · batch {e.batch}/{steps}")
        self.elapsed_label.setText(f"elapsed {format_duration(e.elapsed)}")
        self.speed_label.setText(f"{e.images_per_sec:,.0f} images/s")

    def _on_epoch(self, e: EpochEnded) -> None:
        self._flush_batch_labels()  # the epoch's last batch first, then the epoch's own updates
        self.epochs_done = e.epoch + 1
        self.plots.add_epoch(
            float(e.epoch + 1),
            {"top1": e.top1, "top5": e.top5, "loss": e.loss},
            {"top1": e.val_top1, "top5": e.val_top5, "loss": e.val_loss},
            e.is_best,
        )
        val = (
            f" | val loss {e.val_loss:.4f} top-1 {_pct(e.val_top1)} top-5 {_pct(e.val_top5)}"
            if e.val_top1 is not None else ""
        )
        self._log(
            f"epoch {e.epoch + 1:>3}/{e.epochs}: loss {e.loss:.4f} top-1 {_pct(e.top1)} top-5 {_pct(e.top5)}{val}"
            f" | lr {e.learning_rate:.2e} | {e.seconds:.1f} s, {e.images_per_sec:,.0f} img/s"
            + ("  ★ best" if e.is_best else "")
        )
        if e.probe_predictions and len(self.probes.true_labels):
            self.probes.set_predictions(e.probe_predictions, e.probe_confidences or None)
            acc = self.probes.accuracy()
            if acc is not None:
                right = int(round(acc * len(self.probes.true_labels)))
                self.probe_title.setText(
                    f"<b>Probe images</b> after epoch {e.epoch + 1}: <b>{right} of {len(self.probes.true_labels)}</b> "
                    "right (green right, red wrong; hover for the true label)"
                )
        if self.started is not None:
            total = max(1, self.started.epochs - self.started.initial_epoch)
            self.progress.setValue(int(1000 * min(1.0, (e.epoch + 1 - self.started.initial_epoch) / total)))
        self._update_buttons()

    def _on_final(self, e: object) -> None:
        self._flush_batch_labels()
        self.final_event = e
        elapsed = format_duration(time.monotonic() - self._t0)
        if isinstance(e, TrainingFinished):
            self.model_path = e.model_path
            self.test_metrics = {"top1": e.test_top1, "top5": e.test_top5, "loss": e.test_loss}
            self.plots.set_test(float(e.epochs_completed), self.test_metrics)
            self.result_label.setText(
                f"Finished {e.epochs_completed} epochs in {elapsed} — test top-1 <b>{_pct(e.test_top1)}</b> · "
                f"top-5 <b>{_pct(e.test_top5)}</b>"
            )
            self._log(
                f"Finished after {e.epochs_completed} epochs: test top-1 {_pct(e.test_top1)}, "
                f"top-5 {_pct(e.test_top5)}. Model: {e.model_path}"
            )
            self.progress.setValue(1000)
            self.progress.setFormat("finished")
            self.status_message.emit(f"Finished: test top-1 {_pct(e.test_top1)}")
        elif isinstance(e, TrainingStopped):
            self.model_path = e.model_path
            msg = f"Stopped after {e.epochs_completed} completed epochs."
            if e.test_top1 is not None:
                msg += f" Test top-1 {_pct(e.test_top1)}, top-5 {_pct(e.test_top5)}."
                self.test_metrics = {"top1": e.test_top1, "top5": e.test_top5}
                self.plots.set_test(float(e.epochs_completed), self.test_metrics)
            msg += f" Model: {e.model_path}" if e.model_path else " No model was saved."
            self.result_label.setText(msg.split(" Model:")[0] + " Resume continues from the last completed epoch.")
            self._log(msg)
            self.progress.setFormat("stopped")
            self.status_message.emit("Stopped.")
        elif isinstance(e, TrainingFailed):
            self.model_path = e.model_path
            kind = "Training diverged" if e.diverged else "Training failed"
            self.result_label.setText(f"<span style='color:#b00020'><b>{kind}:</b> {e.message}</span>")
            self._log(f"{kind}: {e.message}")
            if e.details:
                self._log(e.details.rstrip())
            self.progress.setFormat("failed")
            self.status_message.emit(f"{kind}: {e.message}")
        self.plots.refresh()
        self.run_ended.emit(e)

    def _clear_probes(self) -> None:
        self.probes.set_probes(np.zeros((0, 32, 32, 3), np.uint8), (), ())
        self.probe_title.setText(PROBE_IDLE_TEXT)

    # --- handing the trained model to other tabs --------------------------------------------------
    def model_offer(self) -> ModelOffer | None:
        """The run's model with the data it was tested on, or None without a model (``model_path`` is
        cleared when a run starts and set by its final event)."""
        if not self.model_path:
            return None
        c = self.config
        return ModelOffer(
            model_path=str(self.model_path),
            dataset_id=c.dataset if c is not None else None,
            data_dir=c.data_dir if c is not None else None,
            test_limit=int(c.test_limit or 0) if c is not None else 0,
            test_top1=self.test_metrics.get("top1") if self.test_metrics else None,
        )

    @Slot()
    def request_evaluate(self) -> None:
        offer = self.model_offer()
        if offer is not None:
            self.evaluate_requested.emit(offer)

    @Slot()
    def request_classify(self) -> None:
        offer = self.model_offer()
        if offer is not None:
            self.classify_requested.emit(offer)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self.thread
        if thread is not None:
            thread.wait()
        self.thread = None
        self.worker = None
        self.plots.stop_live()
        self.plots.follow_data()
        if self.final_event is None:
            self._log("The training thread ended without a final report.")
        self._update_buttons()
        self.running_changed.emit(False)

    def wait_for_thread(self, timeout_ms: int = 120_000) -> bool:
        """Block until the training thread ended (only for application shutdown)."""
        thread = self.thread
        if thread is None:
            return True
        ok = thread.wait(timeout_ms)
        if ok:
            self._on_thread_finished()
        return ok

    # --- saving and export ----------------------------------------------------------------------
    @Slot()
    def save_model_dialog(self) -> None:
        if not self.model_path:
            return
        fmt = Path(self.model_path).suffix or ".h5"
        start = str(Path(self.run_dir or ".") / f"model{fmt}")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save model", start, "HDF5 model (*.h5);;Keras model (*.keras)"
        )
        if path:
            self.save_model_as(path)

    def save_model_as(self, path: str) -> bool:
        """Copy the run's model to ``path`` (.h5 default); another format is converted on a worker."""
        if not self.model_path or not Path(self.model_path).exists():
            self.save_failed.emit("There is no trained model to save yet.")
            return False
        target = Path(path)
        if target.suffix.lower() not in (".h5", ".keras"):
            target = target.with_suffix(".h5")
        source = Path(self.model_path)
        if source.suffix.lower() == target.suffix.lower():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.part")
                shutil.copy2(source, tmp)
                tmp.replace(target)
            except OSError as exc:
                self._log(f"Could not save the model: {exc}")
                self.save_failed.emit(str(exc))
                return False
            self._log(f"Model saved to {target}")
            self.status_message.emit(f"Model saved to {target}")
            self.model_saved.emit(str(target))
            return True
        self._log(f"Converting {source.name} to {target.suffix} …")
        self.runner.run_function(
            convert_model, str(source), str(target), name="save-model",
            on_success=self._on_converted, on_failure=self._on_convert_failed,
        )
        return True

    @Slot(object)
    def _on_converted(self, target: str) -> None:
        self._log(f"Model saved to {target}")
        self.status_message.emit(f"Model saved to {target}")
        self.model_saved.emit(target)

    @Slot(object)
    def _on_convert_failed(self, error: TaskError) -> None:
        self._log(f"Could not save the model: {error.message}")
        self.save_failed.emit(error.message)

    @Slot()
    def export_plots_dialog(self) -> None:
        start = str(Path(self.run_dir or ".") / "curves.png")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export plots", start, "PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"
        )
        if path:
            self.export_plots(path)

    def export_plots(self, path: str) -> Path | None:
        try:
            out = self.plots.export(path)
        except (ValueError, OSError) as exc:
            self._log(f"Could not export the plots: {exc}")
            return None
        self._log(f"Plots exported to {out}")
        return out

    @Slot()
    def export_history_dialog(self) -> None:
        if not self.run_dir:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export history", str(Path(self.run_dir) / "history-export.csv"), "CSV (*.csv)"
        )
        if path:
            self.export_history(path)

    def export_history(self, path: str) -> Path | None:
        source = Path(self.run_dir or "") / "history.csv"
        if not self.run_dir or not source.exists():
            self._log("This run has no history.csv yet.")
            return None
        try:
            shutil.copyfile(source, path)
        except OSError as exc:
            self._log(f"Could not export the history: {exc}")
            return None
        self._log(f"History exported to {path}")
        return Path(path)

    # --- misc -----------------------------------------------------------------------------------
    def _log(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        for line in text.splitlines() or [""]:
            self.log.appendPlainText(f"[{stamp}] {line}")

    def log_text(self) -> str:
        return self.log.toPlainText()

    def confirm(self, title: str, text: str) -> bool:
        if not self.ask_before_dialogs:
            return True
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes


def _existing(run_dir: str, names: Sequence[str]) -> Path | None:
    for name in names:
        p = Path(run_dir) / name
        if p.exists():
            return p
    return None


if __name__ == "__main__":
    from workbench.gui.app import run_panel

    def _make() -> TrainingPanel:
        return TrainingPanel(config_provider=lambda: TrainConfig(dataset="builtin", arch="simple_cnn", epochs=3, limit=1000))

    run_panel(_make, "Training")
