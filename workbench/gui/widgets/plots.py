"""Live training plots (top-1, top-5, loss) and overlays of earlier runs, in one pyqtgraph scene.

Data arrive through ``add_batch``/``add_epoch`` (cheap list appends); drawing happens only in
``refresh`` (``setData`` with numpy arrays). While a run is live a timer redraws at most
``REFRESH_HZ`` times a second, only when data changed and only while the plots are visible (a hidden
plot just stays dirty and catches up when shown): every redraw is Python work on the GUI thread that
holds the GIL, and Keras' fit loop needs the GIL for every batch, so redraws slow training.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QMarginsF, QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QPageSize, QPainter, QPdfWriter
from PySide6.QtWidgets import QWidget

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
X_AXES = {"epoch": "epoch", "minutes": "wall time (minutes)"}  # x-axis choice -> axis label
Y_HEADROOM = 0.12  # share of the data's span added beyond it when the range has to grow


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
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.showGrid(x=True, y=True, alpha=0.25)
        for side in ("left", "bottom"):
            # major ticks and grid lines only: minor grid lines doubled the cost of every redraw
            plot.getAxis(side).setStyle(maxTickLevel=0)
        # accuracy rises and loss falls, so the legends sit where the curves usually are not
        self.legend = plot.addLegend(
            offset=(-8, -8) if metric != "loss" else (-8, 8), labelTextSize="8pt",
            brush=pg.mkBrush(255, 255, 255, 210), pen=pg.mkPen(200, 200, 200), verSpacing=-4,
        )
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
        self.test_point = plot.plot(
            pen=None, symbol="star", symbolSize=14, symbolBrush=BEST_COLOR, symbolPen="k", name="test",
        )
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
            if not self.plot.getViewBox().autoRangeEnabled()[1]:
                self._grow_y()
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
    """Three side-by-side plots. x is in epochs (batch points at fractional epochs), or in minutes of
    wall time since training started (``set_x_axis("minutes")``); each point keeps both, so switching
    redraws what is there."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(260)
        self.plots: dict[str, _MetricPlot] = {}
        for i, (metric, title, ylabel) in enumerate(METRICS):
            item = self.addPlot(row=0, col=i, title=title)
            item.setLabel("bottom", "epoch")
            item.setLabel("left", ylabel)
            self.plots[metric] = _MetricPlot(item, metric)
        self._overlay_colors = itertools.cycle(OVERLAY_COLORS)
        self.overlay_names: list[str] = []
        self.x_axis = "epoch"
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
        self.refresh()

    def set_x_axis(self, kind: str) -> None:
        """Plot against "epoch" or "minutes" of wall time (points without a wall time stay at their epoch)."""
        if kind not in X_AXES or kind == self.x_axis:
            return
        self.x_axis = kind
        for p in self.plots.values():
            p.plot.setLabel("bottom", X_AXES[kind])
        overlays = list(self._overlay_data)
        self.clear_overlays()
        if self._history is not None:
            self.set_history(self._history)
        else:
            live = list(self._live)
            self._clear_curves()
            for record in live:
                getattr(self, f"add_{record[0]}" if record[0] != "test" else "set_test")(
                    record[1], *record[3:], wall=record[2])
            for p in self.plots.values():
                p.plot.enableAutoRange(x=True)
        for name, history in overlays:
            self.add_overlay(name, history)
        self.refresh()

    def _x(self, epoch_x: float, wall: float | None) -> float:
        return wall / 60.0 if self.x_axis == "minutes" and wall is not None else epoch_x

    def reset(self) -> None:
        """Drop the live curves (not named ``clear``: GraphicsLayoutWidget binds ``clear`` per instance)."""
        self._live, self._history = [], None
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

    def set_epoch_span(self, epochs: int) -> None:
        """Fix the x axis to the planned epochs while a run is live: the axes then need no
        re-layout for every new batch point, which keeps redraws (GUI-thread time) short.
        On a wall-time axis the run's length is not known in epochs: the axis follows the data."""
        for p in self.plots.values():
            p.plot.enableAutoRange(x=self.x_axis != "epoch")
            if self.x_axis != "epoch":
                p.hold_y()
                continue
            p.plot.setXRange(0, max(1, epochs), padding=0.02)
            p.hold_y()
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
        self._live.append(("batch", x, wall, loss, top1, top5))
        x = self._x(x, wall)
        for metric, value in (("loss", loss), ("top1", top1), ("top5", top5)):
            p = self.plots[metric]
            p.batch_x.append(x)
            p.batch_y.append(_scale(metric, value))
            p.batch_dirty = True

    def add_epoch(self, x: float, train: Mapping[str, float | None], val: Mapping[str, float | None], is_best: bool,
                  wall: float | None = None) -> None:
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
        self._live.append(("test", x, wall, values))
        x = self._x(x, wall)
        for metric, p in self.plots.items():
            if values.get(metric) is not None:
                p.test = (x, _scale(metric, values.get(metric)))
                p.dirty = True

    def set_history(self, history: Mapping[str, Sequence[float]]) -> None:
        """Replace the live curves by a finished run's per-epoch history (columns: epoch, top1, val_top1, ...)."""
        self.reset()
        self._history = history
        self.follow_data()
        x, n = self._history_x(history)
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
            if np.isfinite(val).any():
                c2 = p.plot.plot(x, val, pen=pg.mkPen(color, width=2), symbol="t", symbolSize=6,
                                 symbolBrush=color, symbolPen=None, name=f"{name} val", connect="finite")
                p.overlays.append(c2)
        self.overlay_names.append(name)

    def _history_x(self, history: Mapping[str, Sequence[float]]) -> tuple[np.ndarray, int]:
        """(x of each epoch row, row count): epoch k ends at x = k + 1, or at its wall time in minutes
        where the history has one (histories written before wall time was recorded keep epochs)."""
        epochs = np.asarray(history.get("epoch", []), float)
        n = len(epochs)
        if n == 0:
            n = max((len(v) for v in history.values()), default=0)
            epochs = np.arange(n, dtype=float)
        wall = np.asarray([np.nan if v is None else v for v in _column(history, "wall_seconds", n)], float)
        if self.x_axis == "minutes" and n and np.isfinite(wall).all():
            return wall / 60.0, n
        return epochs + 1.0, n

    def clear_overlays(self) -> None:
        for p in self.plots.values():
            for item in p.overlays:
                p.plot.removeItem(item)
                p.legend.removeItem(item)
            p.overlays = []
        self.overlay_names = []
        self._overlay_data = []
        self._overlay_colors = itertools.cycle(OVERLAY_COLORS)

    # --- export ---------------------------------------------------------------------------------
    def export(self, path: str | Path) -> Path:
        """Write the three plots to ``path``: .png, .svg or .pdf (by suffix)."""
        import pyqtgraph.exporters as exporters

        path = Path(path)
        self.refresh()
        suffix = path.suffix.lower()
        if suffix == ".png":
            exporter = exporters.ImageExporter(self.ci)
            exporter.parameters()["width"] = max(1200, int(self.ci.boundingRect().width()))
            exporter.export(str(path))
        elif suffix == ".svg":
            try:
                exporters.SVGExporter(self.ci).export(str(path))
            except (ValueError, IndexError):
                # pyqtgraph 0.14's SVGExporter cannot parse the path data Qt 6.12 writes; render the
                # scene through QSvgGenerator instead (still vector output)
                self._export_svg_qt(path)
        elif suffix == ".pdf":
            self._export_pdf(path)
        else:
            raise ValueError(f"Cannot export plots as {suffix or 'a file without extension'}; use .png, .svg or .pdf.")
        return path

    def _export_svg_qt(self, path: Path) -> None:
        from PySide6.QtCore import QRect, QSize
        from PySide6.QtSvg import QSvgGenerator

        source = self.ci.sceneBoundingRect()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(QSize(int(source.width()), int(source.height())))
        generator.setViewBox(QRect(0, 0, int(source.width()), int(source.height())))
        generator.setTitle("CIFAR Workbench training curves")
        painter = QPainter(generator)
        try:
            self.scene().render(painter, QRectF(0, 0, source.width(), source.height()), source)
        finally:
            painter.end()

    def _export_pdf(self, path: Path) -> None:
        writer = QPdfWriter(str(path))
        writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        from PySide6.QtGui import QPageLayout

        writer.setPageOrientation(QPageLayout.Orientation.Landscape)
        writer.setPageMargins(QMarginsF(10, 10, 10, 10))
        writer.setResolution(150)
        painter = QPainter(writer)
        try:
            source = self.ci.sceneBoundingRect()
            target = QRectF(0, 0, writer.width(), writer.height())
            self.scene().render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
        finally:
            painter.end()


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
