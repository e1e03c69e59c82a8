"""The Model tab draws the model loaded in Evaluate/Classify, a nested keras.applications base as one box
that a click expands (its layers inside a frame) and collapses again."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytest.importorskip("tensorflow")

from workbench.gui.panels.model_view import SOURCE_FORM, SOURCE_LOADED, ModelViewPanel  # noqa: E402


@pytest.fixture(scope="module")
def nested_loaded():
    """A third-party-style transfer model: MobileNetV2 (alpha 0.35, 32×32, no weights) inside a Sequential."""
    import keras

    from workbench.core.modelio import LoadedModel

    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), include_top=False)
    # Named: Keras numbers unnamed layers by what else this process has built.
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 127.5, offset=-1, name="scale"), base,
                              keras.layers.GlobalAveragePooling2D(name="pool"),
                              keras.layers.Dense(10, activation="softmax", name="head")])
    return LoadedModel.from_keras(model, [f"c{i}" for i in range(10)]), base.name


def _click(qtbot, graph, name):
    point = graph.mapFromScene(graph.node_rects[name].center())
    qtbot.mouseClick(graph.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_a_nested_model_collapses_and_expands(qtbot, nested_loaded):
    loaded, base = nested_loaded
    panel = ModelViewPanel()
    qtbot.addWidget(panel)
    panel.resize(1100, 650)
    panel.show()
    assert not panel.source_combo.model().item(SOURCE_LOADED).isEnabled()  # nothing loaded yet
    panel.follow_loaded(loaded)
    panel.source_combo.setCurrentIndex(SOURCE_LOADED)
    qtbot.waitUntil(lambda: panel.loaded_summary is not None, timeout=60_000)
    assert panel.loaded_summary.message == ""
    graph = panel.graph
    # Collapsed: the base is one box between the rescaling and the pooling, its 150-odd layers hidden.
    assert set(graph.node_rects) == {"input", "scale", base, "pool", "head"}
    assert ("scale", base) in graph.edges and (base, "pool") in graph.edges
    assert "1 nested model" in panel.title.text() and "layers" in panel.title.text()
    inner = [r.name for r in panel.loaded_summary.rows if r.parent == base]
    assert len(inner) > 100 and panel.table.rowCount() == len(panel.loaded_summary.rows)

    with qtbot.waitSignal(graph.group_toggled) as toggled:
        _click(qtbot, graph, base)
    assert toggled.args == [base, True]
    assert set(inner) <= set(graph.node_rects)  # expanded: every inner layer has its box
    assert (base, f"{base}/Conv1") in graph.edges  # the first inner layer hangs below the base's box
    assert (f"{base}/out_relu", "pool") in graph.edges  # and its output feeds on
    assert graph.node_rects[f"{base}/Conv1"].top() > graph.node_rects[base].bottom()

    with qtbot.waitSignal(graph.group_toggled) as toggled:
        _click(qtbot, graph, base)
    assert toggled.args == [base, False] and len(graph.node_rects) == 5

    # Back to the form's architecture: its own graph, no nested boxes.
    panel.show_model("simple_cnn", 10)
    panel.source_combo.setCurrentIndex(SOURCE_FORM)
    qtbot.waitUntil(lambda: panel.summary is not None, timeout=60_000)
    assert base not in graph.node_rects and not graph.groups


def test_open_model_accepts_exported_artefacts_and_a_saved_model(tmp_path):
    from workbench.gui.widgets.model_files import MODEL_FILTER, is_model_path, split_paths

    saved = tmp_path / "net"
    saved.mkdir()
    (saved / "saved_model.pb").write_bytes(b"x")
    (tmp_path / "pictures").mkdir()
    assert all(is_model_path(p) for p in ("a.tflite", "b.ONNX", saved, saved / "saved_model.pb", "c.h5"))
    assert not is_model_path(tmp_path / "pictures") and not is_model_path("d.png")
    assert split_paths([str(saved), str(tmp_path / "pictures")]) == ([str(saved)], [str(tmp_path / "pictures")])
    first = MODEL_FILTER.split(";;")[0]  # the dialog's default filter shows every kind it opens
    assert all(pattern in first for pattern in ("*.keras", "*.tflite", "*.onnx", "saved_model.pb"))
