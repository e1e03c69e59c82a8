"""The Evaluate tab's calibration view: a reliability diagram (accuracy per confidence bin against the
diagonal, the gap shaded, the images per bin in a small plot below), the ECE with whether a temperature
was applied, and a Calibrate button that fits one on a background task (progress, Cancel) and stores it.

``CalibrationBox(tasks, source)``: ``source()`` gives (LoadedModel, dataset id, data dir) when the button
is pressed; ``show_result(result)`` draws an EvaluationResult; signal ``calibrated(CalibrationOutcome)``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import QProgressBar, QPushButton, QVBoxLayout, QWidget

from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.flow_row import FlowRow
from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.plot_frame import PlotAxis
from workbench.gui.widgets.rich_text import html_text

TASK = "calibrate"
ACCURACY_BRUSH = (40, 100, 190, 220)
GAP_BRUSH = (230, 80, 80, 70)  # the distance from each bar to the diagonal: what ECE adds up
COUNT_BRUSH = (120, 120, 120, 200)


def calibration_words(temperature: float | None) -> str:
    """'calibrated with T=1.52' or 'not calibrated', beside the ECE."""
    return f"calibrated with T={temperature:.3g}" if temperature is not None else "not calibrated"


def run_calibration(loaded, dataset_id: str, data_dir: str | None, progress=None, cancel=None):
    """Worker thread: fit, judge and store a temperature (core.calibrate_model), cancellable."""
    from workbench.core.calibrate_model import calibrate_model

    return calibrate_model(loaded, dataset_id, data_dir, store=True, progress=progress,
                           cancel=cancel.is_set if cancel is not None else None)


class ReliabilityDiagram(pg.GraphicsLayoutWidget):
    """Accuracy per bin of top-1 confidence over the diagonal (perfect calibration); counts below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setMinimumSize(150, 150)
        self.bins: tuple = ()
        self.plot = self.addPlot(row=0, col=0, axisItems={"bottom": PlotAxis("bottom"), "left": PlotAxis("left")})
        self.plot.setLabel("left", "accuracy")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.getAxis("bottom").setStyle(showValues=False)
        self.plot.plot([0, 1], [0, 1], pen=pg.mkPen((90, 90, 90), width=1, style=Qt.PenStyle.DashLine))
        self.counts = self.addPlot(row=1, col=0, axisItems={"bottom": PlotAxis("bottom"), "left": PlotAxis("left")})
        self.counts.setLabel("bottom", "confidence (top probability)")
        self.counts.setLabel("left", "images")
        self.counts.setMenuEnabled(False)
        self.counts.setMouseEnabled(False, False)
        self.counts.hideButtons()
        self.counts.setXLink(self.plot)
        for plot in (self.plot, self.counts):
            plot.getAxis("left").setWidth(44)  # one width, so the two plots' bins line up
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 1)
        self._items: list[Any] = []
        self._fix_ranges(1)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        # Modest: the scroll area holding the box sizes it by its hints, and a view's default (480 px) scrolled.
        return QSize(300, 220)

    def set_bins(self, bins) -> None:
        """Draw ReliabilityBin rows (core.calibration); empty bins draw nothing."""
        self.bins = tuple(bins)
        for item in self._items:
            item.getViewBox().removeItem(item)
        self._items = []
        full = [b for b in self.bins if b.count]
        if not full:
            return
        x = np.array([(b.lower + b.upper) / 2 for b in full])
        width = (full[0].upper - full[0].lower) * 0.9
        acc = np.array([b.accuracy for b in full])
        conf = np.array([b.confidence for b in full])
        bars = pg.BarGraphItem(x=x, height=acc, width=width, brush=pg.mkBrush(*ACCURACY_BRUSH), pen=None)
        gap = pg.BarGraphItem(x=x, y0=np.minimum(acc, conf), height=np.abs(conf - acc), width=width,
                              brush=pg.mkBrush(*GAP_BRUSH), pen=pg.mkPen((200, 40, 40), width=1))
        counts = pg.BarGraphItem(x=x, height=[b.count for b in full], width=width,
                                 brush=pg.mkBrush(*COUNT_BRUSH), pen=None)
        for plot, item in ((self.plot, bars), (self.plot, gap), (self.counts, counts)):
            plot.addItem(item)
            self._items.append(item)
        self._fix_ranges(max(b.count for b in full))

    def _fix_ranges(self, most: int) -> None:
        # Both plots always span confidence 0..1 (auto range would start the counts at the first full bin).
        self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        self.counts.setRange(xRange=(0, 1), yRange=(0, max(1, most) * 1.05), padding=0.02)
        self.counts.getViewBox().enableAutoRange(enable=False)


class CalibrationBox(QWidget):
    """The diagram with its ECE line and the Calibrate button (see the module's docstring)."""

    calibrated = Signal(object)  # CalibrationOutcome, after the temperature was stored
    calibration_failed = Signal(str)

    def __init__(self, tasks: PanelTasks, source: Callable[[], tuple], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.source = source
        self.outcome = None
        self.head = MessageLabel("Evaluate a model to see how far its confidence can be trusted.")
        self.diagram = ReliabilityDiagram()
        self.diagram.setToolTip("Blue: the share of right answers among images with that confidence; red: its "
                                "distance to the diagonal, where confidence equals accuracy. Below: images per bin.")
        self.calibrate_button = QPushButton("Ca&librate")
        self.calibrate_button.setToolTip("Fit a temperature on images the model did not train on (its run's "
                                         "validation split, else half the test split), store it in the model file "
                                         "and evaluate again")
        self.calibrate_button.clicked.connect(self.calibrate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.message = MessageLabel("")
        row = FlowRow()
        row.addWidget(self.calibrate_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        # The button above the diagram: on a 720-pixel screen the diagram may scroll, the button must not.
        layout.addWidget(self.head)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.diagram, 1)
        self.update_buttons()

    def show_result(self, result) -> None:
        """Draw an EvaluationResult's bins and say its ECE and temperature."""
        rel = result.reliability
        if rel is None:
            return
        self.diagram.set_bins(rel.bins)
        worst = max((b for b in rel.bins if b.count), key=lambda b: abs(b.accuracy - b.confidence), default=None)
        gap = (f"; the largest bin gap is {abs(worst.accuracy - worst.confidence):.3f}, in a bin of {worst.count:,} images"
               if worst is not None else "")
        # Short on screen (the tab is narrow at 1280×720); the details on hover.
        self.head.setText(f"ECE <b>{rel.ece:.4f}</b> — {html_text(calibration_words(result.temperature))}")
        self.head.setToolTip(f"Expected calibration error on {rel.n:,} images, 15 equal-width bins of the top "
                             f"probability{gap}. {calibration_words(result.temperature).capitalize()}.")
        self.update_buttons()

    @Slot()
    def calibrate(self) -> None:
        loaded, dataset_id, data_dir = self.source()
        if loaded is None or self.tasks.is_running(TASK):
            return
        self.progress.setRange(0, 0)
        self.progress.show()
        self.message.setText("Fitting a temperature…")
        self.tasks.start(run_calibration, loaded, dataset_id, data_dir, name=TASK, pass_progress=True,
                         pass_cancel=True, on_success=self._on_done, on_failure=self._on_failed,
                         on_progress=self._on_progress)
        self.update_buttons()

    @Slot()
    def cancel(self) -> None:
        if self.tasks.is_running(TASK):
            self.tasks.cancel(TASK)
            self.progress.hide()
            self.message.setText("Calibration cancelled; the model file is unchanged.")
            self.update_buttons()

    @Slot(object)
    def _on_progress(self, value) -> None:
        done, total = value
        self.progress.setRange(0, int(total))
        self.progress.setValue(int(done))

    @Slot(object)
    def _on_done(self, outcome) -> None:
        self.outcome = outcome
        self.progress.hide()
        self.message.setText(f"Stored T = <b>{outcome.record.value:.3f}</b>: held-out ECE "
                             f"<b>{outcome.before.ece:.4f} → {outcome.after.ece:.4f}</b>"
                             + (" <span style='color:#a05a00'>(no validation split: fitted on half the test split)</span>"
                                if outcome.note else ""))
        self.message.setToolTip(
            f"Stored in {outcome.stored.name}. ECE before → after on {outcome.before.n:,} held-out images "
            f"({outcome.held_split}); the temperature was fitted on {outcome.record.images:,} other images "
            f"({outcome.record.split}). {outcome.note}".strip())
        self.update_buttons()
        self.calibrated.emit(outcome)

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        self.progress.hide()
        self.message.setText(f"<span style='color:#b00020'>{html_text(error.message)}</span>")
        self.update_buttons()
        self.calibration_failed.emit(error.message)

    def update_buttons(self) -> None:
        running = self.tasks.is_running(TASK)
        loaded = self.source()[0]
        self.calibrate_button.setEnabled(loaded is not None and not running)
        self.cancel_button.setEnabled(running)
