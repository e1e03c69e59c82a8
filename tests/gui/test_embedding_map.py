"""The Map tab with a real trained model on the built-in shapes: one point per image coloured by its true
class, mistakes as crosses, hover shows the image and its prediction, a click opens it, a lasso picks a
group, t-SNE can be cancelled, and the tab follows the Evaluate tab's model."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from tests.core.embedding_fixtures import train_tiny_model
from tests.gui.conftest import LONG, save_shot, wait_idle
from workbench.gui.panels.embedding_map import TSNE_TASK, EmbeddingMapPanel
from workbench.gui.widgets.embedding_scatter import MISTAKE_SYMBOL, class_colours
from workbench.gui.widgets.map_details import point_text

N = 150


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return train_tiny_model(tmp_path_factory.mktemp("map") / "tiny.h5", epochs=1, images=300)


@pytest.fixture(scope="module")
def loaded(model_path):
    from workbench.core.modelio import open_model

    return open_model(str(model_path)).loaded


@pytest.fixture
def panel(qtbot, loaded):
    p = EmbeddingMapPanel()
    qtbot.addWidget(p)
    p.resize(1000, 640)
    p.show()
    p.follow_model(loaded)
    p.set_dataset("builtin")
    p.set_limit(N)
    with qtbot.waitSignal(p.map_ready, timeout=LONG):
        p.draw()
    yield p
    p.shutdown()


def test_points_colours_and_mistakes(panel):
    d = panel.data
    assert panel.scatter.point_count() == N == len(d.y_true)
    colours = class_colours(len(d.class_names))
    counts = np.bincount(d.y_true, minlength=5)
    drawn = np.zeros(5, int)
    wrong = 0
    for item in panel.scatter.items:
        k = item.class_index
        assert item.opts["brush"].color().name() == colours[k].name()  # coloured by true class
        idx = item.indices
        assert len(idx) == len(item.data)  # the item draws exactly these points
        assert (d.y_true[idx] == k).all()
        assert ((d.y_pred[idx] != k) == item.is_mistake).all()
        assert item.opts["symbol"] == (MISTAKE_SYMBOL if item.is_mistake else "o")
        drawn[k] += len(idx)
        wrong += len(idx) if item.is_mistake else 0
    assert (drawn == counts).all()
    assert wrong == int((d.y_pred != d.y_true).sum()) and 0 < wrong < N  # one epoch: some of each
    legend = panel.legend.text()
    assert all(name in legend for name in d.class_names) and all(c.name() in legend for c in colours)
    assert f"{wrong:,} mistakes" in panel.status.text()


def test_hover_shows_the_image_and_prediction_and_a_click_opens_it(qtbot, panel):
    d = panel.data
    scatter = panel.scatter
    order = np.argsort(d.features.probabilities.max(axis=1))  # a point drawn apart from its neighbours is easier
    i = int(next(j for j in order if _isolated(scatter, j)))
    pos = scatter.widget_point(i).toPoint()
    QTest.mouseMove(scatter.viewport(), pos)
    qtbot.waitUntil(lambda: scatter.hovered == i, timeout=5000)
    expected = point_text(i, d.class_names, int(d.y_true[i]), d.features.probabilities[i])
    assert panel.card.text.text() == expected == panel.hover_text(i)
    assert panel.card.picture.pixmap() is not None and not panel.card.picture.pixmap().isNull()
    with qtbot.waitSignal(panel.point_opened, timeout=5000) as opened:
        QTest.mouseClick(scatter.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert opened.args == [i]
    dialog = panel.point_dialog
    assert dialog.isVisible() and expected.split(":")[0] in dialog.caption.text()
    qtbot.waitUntil(lambda: panel.tasks.is_idle(), timeout=LONG)  # Grad-CAM (or why not) has arrived
    assert dialog.gradcam_note.text()


def _isolated(scatter, i, pixels=12):
    here = scatter.widget_point(i)
    for j in range(len(scatter.coords)):
        if j != i:
            p = scatter.widget_point(j)
            if abs(p.x() - here.x()) + abs(p.y() - here.y()) < pixels:
                return False
    return True


def _drag(widget, points):
    """A left-button drag through `points` (widget coordinates), as the mouse sends it."""
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    def send(kind, p, buttons):
        QApplication.sendEvent(widget, QMouseEvent(kind, QPointF(p), QPointF(widget.mapToGlobal(p)),
                                                   Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier))

    send(QEvent.Type.MouseButtonPress, points[0], Qt.MouseButton.LeftButton)
    for p in points[1:]:
        QTest.qWait(12)  # pyqtgraph drops moves that come faster than its mouse rate limit (100 Hz)
        send(QEvent.Type.MouseMove, p, Qt.MouseButton.LeftButton)
    send(QEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.NoButton)


def test_a_lasso_drawn_with_the_mouse_picks_a_group_with_its_counts(qtbot, panel):
    scatter = panel.scatter
    coords = panel.shown_projection().coords
    lo, hi = np.percentile(coords, 25, axis=0), np.percentile(coords, 75, axis=0)
    corners = [(lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1])]
    path = []
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1]):  # along each side, in small steps
        for t in np.linspace(0, 1, 8, endpoint=False):
            view = QPointF(ax + t * (bx - ax), ay + t * (by - ay))
            path.append(scatter.mapFromScene(scatter.box.mapViewToScene(view)))
    panel.lasso_button.setChecked(True)
    assert scatter.box.lasso_enabled
    with qtbot.waitSignal(panel.group_selected, timeout=5000) as picked:
        _drag(scatter.viewport(), path)
    # the shape came from the mouse through pixels: compare with the box it traced, up to a pixel
    px = np.abs(scatter.box.viewPixelSize())
    inner = np.flatnonzero(np.all((coords > lo + 2 * px) & (coords < hi - 2 * px), axis=1))
    outer = np.flatnonzero(np.all((coords > lo - 2 * px) & (coords < hi + 2 * px), axis=1))
    got = set(picked.args[0].tolist())
    assert set(inner) <= got <= set(outer) and len(inner) > 0
    summary = panel.group_summary()
    assert summary.size == len(got) and sum(c for _n, c, _m in summary.counts) == len(got)
    assert panel.group_label.text().startswith(f"Group: {len(got):,} images")
    assert len(scatter.group_rings.data) == len(got)  # the group is ringed on the map
    panel.show_group()
    assert len(panel.group_dialog.grid.indices) == min(len(got), 200)
    panel.lasso_button.setChecked(False)
    assert not scatter.box.lasso_enabled


def test_tsne_can_be_cancelled_and_the_pca_map_stays(qtbot, panel):
    panel.set_limit(500)  # every built-in test image: a t-SNE long enough to stop in the middle
    with qtbot.waitSignal(panel.map_ready, timeout=LONG):
        panel.draw()
    before = panel.shown_projection()
    panel.set_method("tsne")
    assert panel.tasks.is_running(TSNE_TASK) and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: "iteration" in panel.status.text(), timeout=LONG)  # optimising, not just starting
    panel.cancel()
    assert not panel.tasks.is_running(TSNE_TASK) and "cancelled" in panel.status.text()
    assert panel.method == "pca" and panel.method_combo.currentData() == "pca"
    assert panel.tsne is None and panel.shown_projection() is before
    qtbot.waitUntil(panel.tasks.is_idle, timeout=10_000)  # the thread itself stops within a few iterations
    assert panel.tsne is None and panel.scatter.point_count() == 500 and not panel.cancel_button.isEnabled()


def test_tsne_finishes_and_is_shown(qtbot, panel):
    with qtbot.waitSignal(panel.tsne_ready, timeout=LONG):
        panel.set_method("tsne")
    assert panel.shown_projection() is panel.tsne and panel.scatter.point_count() == N
    np.testing.assert_allclose(panel.scatter.coords, panel.tsne.coords, rtol=1e-6)
    save_shot(panel, "embedding-map-tsne-builtin.png")


def test_the_map_tab_follows_evaluate(qtbot, make_window, model_path):
    from workbench.gui.main_window import TAB_MAP

    window = make_window()
    with qtbot.waitSignal(window.evaluate.model_loaded, timeout=LONG):
        window.evaluate.open_model(str(model_path))
    assert window.embedding_map.loaded is window.evaluate.loaded
    window.evaluate.set_dataset("builtin")
    window.tabs.setCurrentIndex(TAB_MAP)
    assert window.tabs.tabText(TAB_MAP) == "Map"
    assert window.embedding_map.dataset_id == "builtin" and window.embedding_map.draw_button.isEnabled()
    wait_idle(qtbot, window)


def test_without_a_model_it_says_where_to_open_one(qtbot):
    p = EmbeddingMapPanel()
    qtbot.addWidget(p)
    p.draw()
    assert "Evaluate tab" in p.status.text() and not p.draw_button.isEnabled()
    assert p.scatter.point_count() == 0 and not p.tasks.is_running("map-features")
    QTest.mouseMove(p.scatter.viewport(), QPoint(5, 5))  # nothing to hover: no error
