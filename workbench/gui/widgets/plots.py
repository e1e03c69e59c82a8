"""Live training plots (top-1, top-5, loss) and overlays of earlier runs, in one pyqtgraph scene.

Data arrive through ``add_batch``/``add_epoch`` (cheap list appends); drawing happens only in
``refresh`` (``setData`` with numpy arrays). While a run is live a timer redraws at most
``REFRESH_HZ`` times a second, only when data changed and only while the plots are visible (a hidden
plot just stays dirty and catches up when shown): every redraw is Python work on the GUI thread that
holds the GIL, and Keras' fit loop needs the GIL for every batch, so redraws slow training.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QWidget

from workbench.gui.setting_values import PLOT_X_AXES
from workbench.gui.widgets.plot_export import export_layout
from workbench.gui.widgets.plot_frame import (
    IDLE_X,
    LegendRow,
    keep_at_or_above_zero,
    plot_axes,
    show_idle_range,
)

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w", foreground="k")

METRICS = (
    ("top1", "Top-1 accuracy", "accuracy (%)"),
    ("top5", "Top-5 accuracy", "accuracy (%)"),
    ("loss", "Loss", "cross-entropy"),
)
_PERCENT = {"top1", "top5"}

TRAIN_COLOR = (31, 119, 180)
VAL_COLOR = (255, 127, 14)
BATCH_COLOR = (31, 119, 180, 90)
BEST_COLOR = (44, 160, 44)
OVERLAY_COLORS = [
    (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34),
    (23, 190, 207), (44, 160, 44),
]

REFRESH_HZ = 4  # live redraws per second at most (each costs ~10-30 ms of GUI-thread time)
# Share of one CPU that live redraws (setData + the repaint it causes) may take: after each redraw the
# next one waits at least cost / LIVE_BUDGET, so a slow machine or a big window redraws less often
# instead of taking more time from training (a 12 ms redraw then comes at most every 0.6 s).
LIVE_BUDGET = 0.02
MAX_LIVE_INTERVAL_S = 2.0
# While live the y axis grows in steps instead of following every point: each new point used to move
# the range, which re-laid out the axis and redrew its ticks on every redraw (a third of its cost).
Y_HEADROOM = 0.12  # share of the data's span added beyond it when the range has to grow
X_GROWTH = 1.5  # a live x axis whose end is not known (wall time, a time budget) grows by this factor
# Drawing order: the validation points over the hollow test star over the training curves.
Z_BATCH, Z_TRAIN, Z_TEST, Z_VAL = 0, 1, 2, 3


def _scale(metric: str, value: float | None) -> float:
    if value is None:
        return float("nan")
    value = float(value)
    return value * 100.0 if metric in _PERCENT else value


class _MetricPlot:
    """One PlotItem with its curves and buffers."""

    def __init__(self, plot: pg.PlotItem, metric: str) -> None:
        self.plot = plot
        self.metric = metric
        self.x_kind = "epoch"
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.showGrid(x=True, y=True, alpha=0.25)
        keep_at_or_above_zero(plot)
        # the per-batch curve is the one that grows: no symbols, no antialiasing, clipped/downsampled
        self.batch_curve = plot.plot(pen=pg.mkPen(BATCH_COLOR, width=1), name="train (per batch)",
                                     antialias=False)
        self.train_curve = plot.plot(
            pen=pg.mkPen(TRAIN_COLOR, width=2), symbol="o", symbolSize=6,
            symbolBrush=TRAIN_COLOR, symbolPen=None, name="train (epoch)",
        )
        self.val_curve = plot.plot(
            pen=pg.mkPen(VAL_COLOR, width=2), symbol="s", symbolSize=6,
            symbolBrush=VAL_COLOR, symbolPen=None, name="validation",
        )
        # hollow and larger: a validation square at the same place shows inside it
        self.test_point = plot.plot(
            pen=None, symbol="star", symbolSize=18, symbolBrush=None, symbolPen=pg.mkPen(BEST_COLOR, width=2),
            name="test",
        )
        for curve, z in ((self.batch_curve, Z_BATCH), (self.train_curve, Z_TRAIN), (self.test_point, Z_TEST),
                         (self.val_curve, Z_VAL)):
            curve.setZValue(z)
        self.best_line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(BEST_COLOR, width=1.5, style=Qt.PenStyle.DashLine),
            label="best", labelOpts={"position": 0.96, "color": BEST_COLOR, "movable": False},
        )
        self.best_line.setVisible(False)
        plot.addItem(self.best_line, ignoreBounds=True)
        self.overlays: list[pg.PlotDataItem] = []
        self.clear()

    def clear(self) -> None:
        self.batch_x: list[float] = []
        self.batch_y: list[float] = []
        self.epoch_x: list[float] = []
        self.train_y: list[float] = []
        self.val_y: list[float] = []
        self.test: tuple[float, float] | None = None
        self.best_x: float | None = None
        self.dirty = True  # epoch-level data changed (cheap batch updates use batch_dirty)
        self.batch_dirty = True
        self.y_range: tuple[float, float] | None = None  # the steady range while live, else None
        self._scanned = 0  # batch points already inside y_range
        self._data: tuple[float, float] | None = None  # lowest and highest value seen while live
        self.x_end: float | None = None  # the held x range's end while live
        show_idle_range(self.plot, self.metric in _PERCENT, self.x_kind)

    def hold_x(self, end: float | None) -> None:
        """Live mode: x from 0 to ``end`` (planned epochs, a budget's seconds), or, where the end is not
        known, from 0 to a first guess that grows by ``X_GROWTH`` when the data reach it."""
        self.plot.enableAutoRange(x=False)
        self.x_end = float(end) if end else IDLE_X[self.x_kind]
        self.plot.setXRange(0.0, self.x_end, padding=0.02 if end else 0.0)

    def _grow_x(self) -> None:
        ends = [xs[-1] for xs in (self.batch_x, self.epoch_x) if xs] + ([self.test[0]] if self.test else [])
        last = max((x for x in ends if math.isfinite(x)), default=0.0)
        if self.x_end is not None and last > self.x_end:
            self.x_end = last * X_GROWTH
            self.plot.setXRange(0.0, self.x_end, padding=0.0)

    def hold_y(self) -> None:
        """Live mode: the y range only grows, in steps (see ``Y_HEADROOM``)."""
        self.plot.enableAutoRange(y=False)
        self.y_range = None
        self._scanned = 0
        self._data = None
        self.dirty = True

    def follow_y(self) -> None:
        self.y_range = None
        self.plot.enableAutoRange(y=True)

    def _grow_y(self) -> None:
        # only the batch points added since the last redraw are scanned (a long run has thousands)
        fresh = np.asarray(self.batch_y[self._scanned:], float)
        self._scanned = len(self.batch_y)
        epoch = np.asarray(self.train_y + self.val_y + ([self.test[1]] if self.test else []), float)
        values = np.concatenate([fresh, epoch])
        values = values[np.isfinite(values)]
        if not values.size:
            return
        lo, hi = float(values.min()), float(values.max())
        if self._data is not None:
            lo, hi = min(lo, self._data[0]), max(hi, self._data[1])
        self._data = (lo, hi)
        if self.y_range is not None and self.y_range[0] <= lo and hi <= self.y_range[1]:
            return  # never shrinks while live: the curves do not jump about
        pad = max(hi - lo, 0.25 * max(abs(lo), abs(hi)), 1e-3) * Y_HEADROOM
        low = max(0.0, lo - pad)  # accuracies and cross-entropy are never negative
        high = min(100.0, hi + pad) if self.metric in _PERCENT and hi <= 100.0 else hi + pad
        self.y_range = (low, max(high, low + 1e-3))
        self.plot.setYRange(*self.y_range, padding=0)

    def refresh(self) -> None:
        if self.batch_dirty or self.dirty:
            auto_x, auto_y = self.plot.getViewBox().autoRangeEnabled()[:2]
            if not auto_y:
                self._grow_y()
            if not auto_x:
                self._grow_x()
        if self.batch_dirty:
            self.batch_curve.setData(np.asarray(self.batch_x, float), np.asarray(self.batch_y, float))
            self.batch_dirty = False
        if not self.dirty:
            return
        ex = np.asarray(self.epoch_x, float)
        self.train_curve.setData(ex, np.asarray(self.train_y, float))
        val = np.asarray(self.val_y, float)
        if val.size and np.isfinite(val).any():
            self.val_curve.setData(ex, val, connect="finite")
        else:
            self.val_curve.setData([], [])
        if self.test is not None and np.isfinite(self.test[1]):
            self.test_point.setData([self.test[0]], [self.test[1]])
        else:
            self.test_point.setData([], [])
        if self.best_x is not None:
            self.best_line.setValue(self.best_x)
            self.best_line.setVisible(True)
        else:
            self.best_line.setVisible(False)
        self.dirty = False

    def point_count(self) -> int:
        return len(self.batch_x) + len(self.epoch_x)

    def is_dirty(self) -> bool:
        return self.dirty or self.batch_dirty


class TrainingPlots(pg.GraphicsLayoutWidget):
    """Three side-by-side plots under one legend row. x is in epochs (batch points at fractional
    epochs), or in seconds of wall time since training started (``set_x_axis("wall")``, written in s,
    min or h); each point keeps both, so switching redraws what is there."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(260)
        # one legend for the three plots (their curves are the same kinds), in a row of its own
        self.legend = LegendRow(columns=4)
        self.addItem(self.legend, row=0, col=0, colspan=len(METRICS))
        self.ci.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignHCenter)
        self.plots: dict[str, _MetricPlot] = {}
        for i, (metric, title, ylabel) in enumerate(METRICS):
            item = self.addPlot(row=1, col=i, title=title, axisItems=plot_axes())
            item.setLabel("left", ylabel)
            self.plots[metric] = _MetricPlot(item, metric)
        first = self.plots[METRICS[0][0]]
        for curve in (first.batch_curve, first.train_curve, first.val_curve, first.test_point):
            self.legend.addItem(curve, curve.name())
        self._overlay_colors = itertools.cycle(OVERLAY_COLORS)
        self.overlay_names: list[str] = []
        self.x_axis = "epoch"
        self._span: tuple[int, float | None] | None = None  # (planned epochs, budget seconds) while live
        # Wall time restarts at 0 in each session of a resumed run: its points follow the earlier ones.
        self._wall_offset = 0.0
        self._wall_end = 0.0  # the latest wall time drawn, offset included
        # What is drawn, kept with both x values so a switch of axis can redraw it.
        self._live: list[tuple] = []  # ("batch"|"epoch"|"test", epoch x, wall seconds or None, *values)
        self._history: Mapping[str, Sequence[float]] | None = None
        self._overlay_data: list[tuple[str, Mapping[str, Sequence[float]]]] = []
        self.top5_note: str | None = None  # why the top-5 plot stays empty (5 classes or fewer)
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / REFRESH_HZ))
        self._timer.timeout.connect(self._live_tick)
        self._next_live = 0.0  # monotonic time before which the live timer does not redraw
        self._last_cost = 0.0  # seconds of the last redraw: setData plus the paint that followed

    # --- live updates ---------------------------------------------------------------------------
    def start_live(self) -> None:
        self._next_live = 0.0
        self._wall_offset = self._wall_end  # a resumed session's clock starts again at 0
        self._timer.start()

    @Slot()
    def _live_tick(self) -> None:
        """Timer slot while live: redraw only what changed, nothing while hidden (another tab,
        minimised; ``showEvent`` catches up) and, but for a new epoch, no more often than the time
        budget allows."""
        now = time.monotonic()
        if not self.isVisible() or not self.is_dirty():
            return
        # new epoch points are drawn at once (one redraw an epoch); batch points wait for the budget
        if now < self._next_live and not any(p.dirty for p in self.plots.values()):
            return
        self._last_cost = 0.0
        self.refresh()
        self._last_cost += time.monotonic() - now
        # the paint this causes runs later (paintEvent adds its cost and pushes _next_live further)
        self._next_live = now + min(MAX_LIVE_INTERVAL_S, self._last_cost / LIVE_BUDGET)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        t0 = time.monotonic()
        super().paintEvent(event)
        if self._timer.isActive():
            cost = time.monotonic() - t0
            self._last_cost += cost
            self._next_live = min(self._next_live + cost / LIVE_BUDGET, t0 + MAX_LIVE_INTERVAL_S)

    def is_dirty(self) -> bool:
        return any(p.is_dirty() for p in self.plots.values())

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self.is_dirty():
            self.refresh()

    def stop_live(self) -> None:
        self._timer.stop()
        self._span = None
        self.refresh()

    def legends(self) -> list[pg.LegendItem]:
        return [self.legend]

    def set_x_axis(self, kind: str) -> None:
        """Plot against "epoch" or "wall" time (points without a wall time stay at their epoch)."""
        if kind not in PLOT_X_AXES or kind == self.x_axis:
            return
        self.x_axis = kind
        for p in self.plots.values():
            p.x_kind = kind
            p.plot.getAxis("bottom").set_kind(kind)
        overlays = list(self._overlay_data)
        self.clear_overlays()
        live, offset = list(self._live), self._wall_offset
        if self._history is not None:  # a stored run, perhaps resumed since: its live points follow
            self.set_history(self._history)
        else:
            self._clear_curves()
        self._wall_offset = 0.0  # the records hold their wall time with the offset applied
        for record in live:
            getattr(self, f"add_{record[0]}" if record[0] != "test" else "set_test")(
                record[1], *record[3:], wall=record[2])
        self._wall_offset = offset
        for p in self.plots.values():
            p.plot.enableAutoRange(x=True)
        if self._span is not None:
            self.set_epoch_span(*self._span)  # live: hold the new axis as the run began
        for name, history in overlays:
            self.add_overlay(name, history)
        self.refresh()

    def _wall(self, wall: float | None) -> float | None:
        """``wall`` seconds of this session as seconds since the run's first session started."""
        if wall is None:
            return None
        wall = float(wall) + self._wall_offset
        self._wall_end = max(self._wall_end, wall)
        return wall

    def _x(self, epoch_x: float, wall: float | None) -> float:
        return wall if self.x_axis == "wall" and wall is not None else epoch_x

    def reset(self) -> None:
        """Drop the live curves (not named ``clear``: GraphicsLayoutWidget binds ``clear`` per instance)."""
        self._live, self._history = [], None
        self._wall_offset = self._wall_end = 0.0
        self._clear_curves()

    def _clear_curves(self) -> None:
        self._live = []
        for p in self.plots.values():
            p.clear()
            p.plot.enableAutoRange(x=True)
        self.refresh()

    def set_top5_note(self, note: str | None) -> None:
        """Mark the top-5 plot as not measured, titled with why (None: an ordinary top-5 plot again).

        `note` is e.g. "top-5 is meaningless with 5 classes (…)": the title keeps the part before "(".
        """
        self.top5_note = note
        title = dict((m, t) for m, t, _ in METRICS)["top5"]
        short = note.split(" (")[0].replace("top-5 is ", "") if note else ""
        self.plots["top5"].plot.setTitle(f"Top-5: {short}" if note else title)

    def set_loss_label(self, text: str | None) -> None:
        """Name the loss the run counts (e.g. "cross-entropy, smoothing 0.1 + L2"); None: plain words."""
        self.plots["loss"].plot.setLabel("left", text or dict((m, y) for m, _, y in METRICS)["loss"])

    def set_epoch_span(self, epochs: int, budget_s: float | None = None) -> None:
        """Hold the x axis while a run is live: the axes then need no re-layout for every new batch
        point, which keeps redraws (GUI-thread time) short. It spans the planned epochs, or a time
        budget's seconds on a wall-time axis; where the end is not known (wall time without a budget,
        epochs under a budget, whose epoch count is only a cap) it grows in steps with the data."""
        self._span = (epochs, budget_s)
        if self.x_axis == "epoch":
            end = None if budget_s else max(1, epochs)
        else:
            end = self._wall_offset + budget_s if budget_s else None
        for p in self.plots.values():
            p.hold_x(end)
            p.hold_y()
            # grid lines are drawn by the axes across the whole plot, so every new batch point
            # repainted them: half of each redraw's cost. Live plots go without; stored runs keep them.
            p.plot.showGrid(x=False, y=False)
            # grid lines are drawn by the axes across the whole plot, so every new batch point
            # repainted them: half of each redraw's cost. Live plots go without; stored runs keep them.
            p.plot.showGrid(x=False, y=False)

    def follow_data(self) -> None:
        """Let the x axis follow the data again and show grid lines (after a run, or for stored runs)."""
        for p in self.plots.values():
            p.plot.enableAutoRange(x=True)
            p.follow_y()
            p.plot.showGrid(x=True, y=True, alpha=0.25)

    def add_batch(self, x: float, loss: float, top1: float, top5: float, wall: float | None = None) -> None:
        """A batch point at epoch ``x`` (fractional), ``wall`` seconds after training started."""
        wall = self._wall(wall)
        self._live.append(("batch", x, wall, loss, top1, top5))
        x = self._x(x, wall)
        for metric, value in (("loss", loss), ("top1", top1), ("top5", top5)):
            p = self.plots[metric]
            p.batch_x.append(x)
            p.batch_y.append(_scale(metric, value))
            p.batch_dirty = True

    def add_epoch(self, x: float, train: Mapping[str, float | None], val: Mapping[str, float | None], is_best: bool,
                  wall: float | None = None) -> None:
        wall = self._wall(wall)
        self._live.append(("epoch", x, wall, train, val, is_best))
        x = self._x(x, wall)
        for metric, p in self.plots.items():
            p.epoch_x.append(x)
            p.train_y.append(_scale(metric, train.get(metric)))
            p.val_y.append(_scale(metric, val.get(metric)))
            if is_best:
                p.best_x = x
            p.dirty = True

    def set_test(self, x: float, values: Mapping[str, float | None], wall: float | None = None) -> None:
        """The test result of the model after epoch ``x`` (without a wall time: at the last epoch's point)."""
        wall = self._wall(wall)
        self._live.append(("test", x, wall, values))
        for metric, p in self.plots.items():
            at = self._x(x, wall) if wall is not None or not p.epoch_x else p.epoch_x[-1]
            if values.get(metric) is not None:
                p.test = (at, _scale(metric, values.get(metric)))
                p.dirty = True

    def set_history(self, history: Mapping[str, Sequence[float]]) -> None:
        """Replace the live curves by a finished run's per-epoch history (columns: epoch, top1, val_top1, ...)."""
        self.reset()
        self._history = history
        self.follow_data()
        x, n = self._history_x(history)
        self._wall_end = _run_seconds(history, n)
        best_metric = "val_top1" if _has_values(history.get("val_top1")) else "top1"
        best = _nanargmax(history.get(best_metric))
        for metric, p in self.plots.items():
            p.epoch_x = list(x)
            p.train_y = [_scale(metric, v) for v in _column(history, metric, n)]
            p.val_y = [_scale(metric, v) for v in _column(history, f"val_{metric}", n)]
            p.best_x = float(x[best]) if best is not None else None
            p.dirty = True
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        for p in self.plots.values():
            p.refresh()

    def point_count(self, metric: str = "top1") -> int:
        return self.plots[metric].point_count()

    # --- overlays of earlier runs ---------------------------------------------------------------
    def add_overlay(self, name: str, history: Mapping[str, Sequence[float]]) -> None:
        """Draw another run's per-epoch train (dotted) and validation (solid) curves on all three plots."""
        color = next(self._overlay_colors)
        self._overlay_data.append((name, history))
        name = short_run_name(name)
        x, n = self._history_x(history)
        for metric, p in self.plots.items():
            train = np.asarray([_scale(metric, v) for v in _column(history, metric, n)], float)
            val = np.asarray([_scale(metric, v) for v in _column(history, f"val_{metric}", n)], float)
            c1 = p.plot.plot(x, train, pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DotLine),
                             name=f"{name} train")
            p.overlays.append(c1)
            if metric == METRICS[0][0]:
                self.legend.addItem(c1, c1.name())
            if np.isfinite(val).any():
                c2 = p.plot.plot(x, val, pen=pg.mkPen(color, width=2), symbol="t", symbolSize=6,
                                 symbolBrush=color, symbolPen=None, name=f"{name} val", connect="finite")
                p.overlays.append(c2)
                if metric == METRICS[0][0]:
                    self.legend.addItem(c2, c2.name())
        self.overlay_names.append(name)

    def _history_x(self, history: Mapping[str, Sequence[float]]) -> tuple[np.ndarray, int]:
        """(x of each epoch row, row count): epoch k ends at x = k + 1, or at its wall time in seconds
        where the history has one (histories written before wall time was recorded keep epochs)."""
        epochs = np.asarray(history.get("epoch", []), float)
        n = len(epochs)
        if n == 0:
            n = max((len(v) for v in history.values()), default=0)
            epochs = np.arange(n, dtype=float)
        wall = _run_wall(history, n)
        if self.x_axis == "wall" and n and np.isfinite(wall).all():
            return wall, n
        return epochs + 1.0, n

    def clear_overlays(self) -> None:
        for p in self.plots.values():
            for item in p.overlays:
                p.plot.removeItem(item)
                self.legend.removeItem(item)
            p.overlays = []
        self.overlay_names = []
        self._overlay_data = []
        self._overlay_colors = itertools.cycle(OVERLAY_COLORS)

    # --- export ---------------------------------------------------------------------------------
    def export(self, path: str | Path) -> Path:
        """Write the three plots and their legend to ``path``: .png, .svg or .pdf (by suffix)."""
        self.refresh()
        return export_layout(self.ci, Path(path))


def short_run_name(name: str) -> str:
    """'20261125-201814-builtin-simple_cnn' -> '20:18:14 simple_cnn' (legends stay narrow)."""
    parts = name.split("-")
    if len(parts) >= 4 and len(parts[1]) == 6 and parts[1].isdigit():
        t = parts[1]
        return f"{t[:2]}:{t[2:4]}:{t[4:]} {'-'.join(parts[3:])}"
    return name if len(name) <= 24 else name[:23] + "…"


def _column(history: Mapping[str, Sequence[float]], key: str, n: int) -> list[float | None]:
    values = history.get(key)
    if values is None:
        return [None] * n
    out = [None if v is None else float(v) for v in values]
    return (out + [None] * n)[:n]


def _run_wall(history: Mapping[str, Sequence[float]], n: int) -> np.ndarray:
    """Each row's seconds since the run's first session started: a resumed session's clock starts again
    at 0 (``wall_seconds`` counts from its own start), so each later session follows the one before."""
    wall = np.asarray([np.nan if v is None else v for v in _column(history, "wall_seconds", n)], float)
    offset, previous = 0.0, 0.0
    out = wall.copy()
    for i, value in enumerate(wall):
        if not math.isfinite(value):
            continue
        if value + offset < previous:  # the clock went back: a new session
            offset = previous
        out[i] = previous = value + offset
    return out


def _run_seconds(history: Mapping[str, Sequence[float]], n: int) -> float:
    wall = _run_wall(history, n)
    return float(np.nanmax(wall)) if n and np.isfinite(wall).any() else 0.0


def _has_values(values: Sequence[float] | None) -> bool:
    if values is None:
        return False
    arr = np.asarray([np.nan if v is None else v for v in values], float)
    return bool(np.isfinite(arr).any())


def _nanargmax(values: Sequence[float] | None) -> int | None:
    if not _has_values(values):
        return None
    arr = np.asarray([np.nan if v is None else v for v in values], float)
    return int(np.nanargmax(arr))
