"""The live plots: every point stays in view while the y range grows in steps, and after the run the
axes follow the data again."""

from __future__ import annotations

import numpy as np

from workbench.gui.widgets.plots import TrainingPlots


def _y_view(plots: TrainingPlots, metric: str) -> tuple[float, float]:
    return tuple(plots.plots[metric].plot.getViewBox().viewRange()[1])


def test_live_y_range_holds_every_point_and_changes_rarely(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(1200, 400)
    plots.show()
    plots.set_epoch_span(10)
    rng = np.random.default_rng(1)
    ranges: list[tuple[float, float]] = []
    for step in range(1, 401):
        x = step / 40
        loss = 2.3 * np.exp(-x / 2) + 0.4 + rng.normal() * 0.05
        top1 = 0.1 + 0.6 * (1 - np.exp(-x / 2)) + rng.normal() * 0.02
        plots.add_batch(x, loss, top1, min(1.0, top1 + 0.3))
        if step % 40 == 0:
            plots.add_epoch(x, {"top1": top1, "top5": top1 + 0.3, "loss": loss},
                            {"top1": top1 - 0.05, "top5": top1 + 0.2, "loss": loss + 0.1}, True)
        if step % 5 == 0:  # a redraw every few batches, as the live timer does
            plots.refresh()
            ranges.append(_y_view(plots, "top1"))
    for metric, p in plots.plots.items():
        lo, hi = _y_view(plots, metric)
        values = np.asarray(p.batch_y + p.train_y + p.val_y)
        assert lo <= values.min() and values.max() <= hi, metric  # nothing is drawn outside the view
        assert lo >= 0.0
    changes = sum(1 for a, b in zip(ranges, ranges[1:]) if a != b)
    assert changes <= len(ranges) // 4  # grows in steps, not with every redraw
    assert all(b[0] <= a[0] and b[1] >= a[1] for a, b in zip(ranges, ranges[1:]))  # never shrinks while live
    # after the run the y axis fits the data again
    plots.follow_data()
    plots.refresh()
    assert plots.plots["top1"].plot.getViewBox().autoRangeEnabled()[1]


def test_live_redraws_wait_for_the_budget_but_epoch_points_show_at_once(qtbot):
    import time

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.show()
    plots.set_epoch_span(5)
    plots.start_live()
    plots.add_batch(0.1, 2.0, 0.2, 0.6)
    qtbot.waitUntil(lambda: not plots.is_dirty(), timeout=2000)  # the first batch point is drawn
    plots._next_live = time.monotonic() + 60  # as after a redraw that used up the time budget
    plots.add_batch(0.2, 1.9, 0.25, 0.65)
    qtbot.wait(700)  # several timer ticks
    assert plots.plots["top1"].batch_dirty  # batch points wait
    plots.add_epoch(1.0, {"top1": 0.3, "top5": 0.7, "loss": 1.8}, {"top1": 0.28, "top5": 0.66, "loss": 1.9}, True)
    qtbot.waitUntil(lambda: not plots.is_dirty(), timeout=2000)  # an epoch's points do not
    x, y = plots.plots["top1"].val_curve.getData()
    assert list(x) == [1.0] and abs(y[0] - 28.0) < 1e-9
    plots.stop_live()
