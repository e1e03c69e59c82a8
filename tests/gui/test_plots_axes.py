"""The plots say what they show: axis labels in the units of their ticks (no "(x0.001)"), ranges that
match the units when idle, never below zero, the validation point visible beside the test star and the
legend off the data."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from workbench.gui.widgets.plots import TrainingPlots
from workbench.gui.widgets.run_compare import RunComparePlot


@pytest.fixture
def plots(qtbot) -> TrainingPlots:
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(950, 330)
    plots.show()
    return plots


def _drawn(plots: TrainingPlots) -> None:
    plots.refresh()
    QApplication.processEvents()


def _label(axis) -> str:
    return axis.labelString()


def _tick_values(axis) -> list[float]:
    """The values the axis writes under its ticks, as numbers."""
    lo, hi = axis.range
    size = axis.geometry().width() if axis.orientation in ("top", "bottom") else axis.geometry().height()
    values = [v for _spacing, level in axis.tickValues(lo, hi, size) for v in level]
    return sorted(float(s) for s in axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, 1.0) if s)


def test_idle_plots_show_percent_from_0_to_100(plots):
    _drawn(plots)
    for metric in ("top1", "top5"):
        p = plots.plots[metric].plot
        assert "%" in _label(p.getAxis("left"))
        lo, hi = p.getViewBox().viewRange()[1]
        assert lo == pytest.approx(0.0, abs=1e-9) and 100.0 <= hi <= 105.0, metric
        assert max(_tick_values(p.getAxis("left"))) >= 50  # not 0.2-0.8 under "accuracy (%)"
    for p in plots.plots.values():
        assert min(p.plot.getViewBox().viewRange()[0]) >= 0.0  # no negative epochs


def test_early_wall_time_reads_in_seconds_from_zero_without_si_prefix(plots):
    plots.set_x_axis("wall")
    plots.set_epoch_span(1000)  # a time budget's cap: says nothing about where the x axis ends
    for i in range(1, 12):  # the first few seconds of a run
        plots.add_batch(i / 79, 2.3 - i * 0.01, 0.1 + i * 0.005, 0.5, wall=2.0 + i * 0.5)
    _drawn(plots)
    for metric, p in plots.plots.items():
        axis = p.plot.getAxis("bottom")
        text = _label(axis)
        assert "(x" not in text and "wall time (s)" in text, text
        lo, hi = p.plot.getViewBox().viewRange()[0]
        assert lo >= 0.0 and hi >= 7.5, (metric, lo, hi)  # every point shown, nothing negative
        ticks = _tick_values(axis)
        assert min(ticks) >= 0 and max(ticks) >= 5  # seconds, as the label says
        assert "(x" not in _label(p.plot.getAxis("left"))


def test_a_long_run_reads_in_minutes(plots):
    plots.set_x_axis("wall")
    plots.set_epoch_span(10)
    for i in range(1, 11):
        plots.add_epoch(float(i), {"top1": 0.1 * i, "loss": 2.0 / i}, {"top1": 0.09 * i, "loss": 2.1 / i}, True,
                        wall=60.0 * i)
    _drawn(plots)
    axis = plots.plots["top1"].plot.getAxis("bottom")
    assert "wall time (min)" in _label(axis) and "(x" not in _label(axis)
    ticks = _tick_values(axis)
    assert 10 <= max(ticks) <= 20  # 10 minutes (and room to grow), in minutes
    plots.stop_live()
    plots.follow_data()
    _drawn(plots)
    assert plots.plots["top1"].plot.getViewBox().viewRange()[0][0] >= 0.0


def test_a_single_point_does_not_pull_the_axes_below_zero(plots):
    plots.set_x_axis("wall")
    plots.follow_data()
    plots.add_batch(0.01, 2.3, 0.1, 0.5, wall=1.0)
    _drawn(plots)
    for p in plots.plots.values():
        (x0, _x1), (y0, _y1) = p.plot.getViewBox().viewRange()
        assert x0 >= 0.0 and y0 >= 0.0


def test_validation_point_is_drawn_over_a_hollow_test_star(plots):
    plots.add_epoch(1.0, {"top1": 0.5, "loss": 1.0}, {"top1": 0.4, "loss": 1.2}, True)
    plots.set_test(1.0, {"top1": 0.4, "loss": 1.2})
    _drawn(plots)
    for p in plots.plots.values():
        assert p.val_curve.zValue() > p.test_point.zValue()
        brush = p.test_point.opts["symbolBrush"]
        assert brush is None or pg_brush_alpha(brush) == 0  # hollow: the square inside stays visible
        assert p.test_point.opts["symbolSize"] > p.val_curve.opts["symbolSize"]


def pg_brush_alpha(brush) -> int:
    import pyqtgraph as pg

    return pg.mkBrush(brush).color().alpha()


def _overlaps_a_view(legend, views) -> bool:
    box = legend.sceneBoundingRect()
    return any(box.intersects(v.sceneBoundingRect()) for v in views)


def test_the_legend_sits_off_the_data(plots):
    plots.set_epoch_span(5)
    for i in range(1, 6):
        plots.add_epoch(float(i), {"top1": 0.1 * i, "top5": 0.2 * i, "loss": 2.0 / i},
                        {"top1": 0.09 * i, "top5": 0.18 * i, "loss": 2.1 / i}, i == 5)
    plots.set_test(5.0, {"top1": 0.45, "top5": 0.9, "loss": 0.4})
    plots.add_overlay("20261125-201814-builtin-simple_cnn", {"epoch": [0, 1], "top1": [0.2, 0.3], "val_top1": [0.1, 0.2]})
    _drawn(plots)
    views = [p.plot.getViewBox() for p in plots.plots.values()]
    legends = plots.legends()
    assert legends and all(legend.isVisible() for legend in legends)
    assert not any(_overlaps_a_view(legend, views) for legend in legends)
    names = [label.text for legend in legends for _sample, label in legend.items]
    assert any("test" in n for n in names) and any("simple_cnn val" in n for n in names)


def test_run_compare_axis_and_legend(qtbot):
    plot = RunComparePlot()
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    plot.show()
    history = [{"epoch": e, "seconds": 3.0, "val_top1": 0.1 * (e + 1)} for e in range(5)]
    plot.set_runs([("run a", history), ("run b", history)])
    plot.set_x_axis("time")
    QApplication.processEvents()
    axis = plot.plot_item.getAxis("bottom")
    assert "wall time (s)" in _label(axis) and "(x" not in _label(axis)
    assert plot.plot_item.getViewBox().viewRange()[0][0] >= 0.0
    assert not _overlaps_a_view(plot.legend, [plot.plot_item.getViewBox()])


def test_the_loss_axis_names_the_runs_loss(plots):
    plots.set_loss_label("cross-entropy, smoothing 0.1 + L2")
    assert "smoothing 0.1" in _label(plots.plots["loss"].plot.getAxis("left"))
    plots.set_loss_label(None)
    assert "cross-entropy</span>" in _label(plots.plots["loss"].plot.getAxis("left")).replace(" </span>", "</span>")
