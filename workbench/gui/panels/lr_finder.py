"""The learning-rate finder window: runs the sweep off the GUI thread (progress, Cancel), shows the
smoothed loss against the rate on a log axis with the suggestion marked, and hands the suggestion to
the form with one click ("Use this rate" -> ``rate_chosen``).

``python -m workbench.gui.panels.lr_finder`` opens it alone, sweeping the built-in set.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from workbench.core.training.config import TrainConfig
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.rich_text import html_text

TASK = "lr_find"
CURVE_COLOR = (31, 119, 180)
RAW_COLOR = (190, 190, 190)  # each batch's own loss, faint behind the smoothed curve
SUGGESTION_COLOR = (214, 39, 40)
Y_HEADROOM = 1.15  # the y axis ends a little above the first loss: the exploded tail would flatten the dip


def _sweep(config: TrainConfig, progress: Callable[..., None], cancel: threading.Event) -> Any:
    from workbench.core.training.lr_finder import find_learning_rate  # TensorFlow loads on the worker thread

    return find_learning_rate(config, on_progress=progress, stop=cancel)


class LRFinderDialog(QDialog):
    """Sweeps ``config``'s network through ``tasks`` (the opening panel's, so closing that panel stops it)."""

    rate_chosen = Signal(float)
    sweep_done = Signal(object)  # the LRFinderResult, or a TaskError

    def __init__(self, config: TrainConfig, tasks: PanelTasks | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find learning rate")
        self.config = config
        self.tasks = tasks if tasks is not None else PanelTasks(self)
        self.result: Any = None
        intro = QLabel(
            f"Trains a fresh copy of {html_text(config.arch)} on {html_text(config.dataset)} (batch "
            f"{config.batch_size}, {html_text(config.optimizer)}) for a few batches while the learning rate grows; "
            "nothing is saved."
        )
        intro.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setFormat("loading the data and building the network…")
        self.progress.setRange(0, 0)
        self.message = MessageLabel()
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = pg.PlotWidget(background="w")  # the look of the training plots, also when opened alone
        for side in ("bottom", "left"):
            self.plot.getAxis(side).setPen("k")
            self.plot.getAxis(side).setTextPen("k")
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "loss (smoothed)")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.raw_curve = self.plot.plot(pen=pg.mkPen(RAW_COLOR, width=1))
        self.curve = self.plot.plot(pen=pg.mkPen(CURVE_COLOR, width=2))
        self.marker = self.plot.plot(pen=None, symbol="o", symbolSize=10, symbolBrush=pg.mkBrush(*SUGGESTION_COLOR))
        self.suggestion_line = pg.InfiniteLine(angle=90, movable=False,
                                               pen=pg.mkPen(SUGGESTION_COLOR, width=1.5, style=Qt.PenStyle.DashLine))
        self.suggestion_line.setVisible(False)
        self.plot.addItem(self.suggestion_line)
        self.use_button = QPushButton("Use this rate")
        self.use_button.setEnabled(False)
        self.use_button.setDefault(True)
        self.use_button.clicked.connect(self._use)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.progress)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(640, 480)
        self.finished.connect(self._on_closed)
        self.tasks.start(_sweep, config, name=TASK, pass_progress=True, pass_cancel=True,
                         on_success=self._on_result, on_failure=self._on_failure, on_progress=self._on_progress)

    def suggestion(self) -> float | None:
        return self.result.suggestion if self.result is not None else None

    @Slot()
    def _use(self) -> None:
        if self.result is not None:
            self.rate_chosen.emit(self.result.suggestion)
            self.accept()

    @Slot(int)
    def _on_closed(self, _code: int) -> None:
        self.tasks.cancel(TASK)  # closing the window ends a sweep still running; its answer is dropped

    def _on_progress(self, value: Any) -> None:
        done, total = value
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"batch {done} of {total}")

    def _on_result(self, result: Any) -> None:
        self.result = result
        self.raw_curve.setData(result.learning_rates, result.raw_losses)
        self.curve.setData(result.learning_rates, result.losses)
        self.marker.setData([result.suggestion], [_loss_at(result, result.suggestion)])
        self.suggestion_line.setPos(math.log10(result.suggestion))  # items other than curves take log10 x
        self.suggestion_line.setVisible(True)
        low = min(result.losses)
        self.plot.setYRange(low - 0.05 * abs(low), max(result.losses[0], low) * Y_HEADROOM, padding=0)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        stopped = " (stopped early: the loss exploded)" if result.diverged else ""
        self.progress.setFormat(f"{len(result.losses)} batches{stopped}")
        self.message.setText(f"<b>{result.suggestion:.3g}</b> — {html_text(result.explanation)}")
        self.use_button.setText(f"Use {result.suggestion:.3g}")
        self.use_button.setEnabled(True)
        self.cancel_button.setText("Close")
        self.sweep_done.emit(result)

    def _on_failure(self, error: TaskError) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("no curve")
        self.message.setText(html_text(error.message))
        self.cancel_button.setText("Close")
        self.sweep_done.emit(error)


def _loss_at(result: Any, rate: float) -> float:
    nearest = min(range(len(result.learning_rates)), key=lambda i: abs(math.log(result.learning_rates[i] / rate)))
    return result.losses[nearest]


if __name__ == "__main__":
    from workbench.gui.standalone import run_panel

    raise SystemExit(run_panel(
        lambda: LRFinderDialog(TrainConfig(dataset="builtin", arch="simple_cnn", batch_size=32, limit=512)),
        "Learning-rate finder"))
