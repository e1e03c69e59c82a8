"""The Model tab's layer graph shows each layer's type and name whole (no '…'), inside its box."""

from __future__ import annotations

from PySide6.QtWidgets import QGraphicsSimpleTextItem

from workbench.core.architectures.summary import LayerRow
from workbench.gui.widgets.layer_graph import LayerGraph

# Long Keras names from the report's networks (types and the names Keras numbers them with).
ROWS = [
    LayerRow("input_layer_12", "InputLayer", (None, 32, 32, 3), 0, ()),
    LayerRow("batch_normalization_13", "BatchNormalization", (None, 32, 32, 64), 256, ("input_layer_12",)),
    LayerRow("separable_conv2d_14", "SeparableConv2D", (None, 32, 32, 128), 8_896, ("batch_normalization_13",)),
    LayerRow("global_average_pooling2d_7", "GlobalAveragePooling2D", (None, 128), 0, ("separable_conv2d_14",)),
    LayerRow("dense_23", "Dense", (None, 100), 12_900, ("global_average_pooling2d_7",)),
]


def test_titles_are_whole_and_inside_their_boxes(qtbot):
    graph = LayerGraph()
    qtbot.addWidget(graph)
    graph.set_rows(ROWS)
    texts = [item for item in graph.scene().items() if isinstance(item, QGraphicsSimpleTextItem)]
    shown = " ".join(t.text() for t in texts)
    for row in ROWS:
        assert row.name in shown and row.class_name in shown
    assert "…" not in shown
    boxes = list(graph.node_rects.values())
    for item in texts:
        rect = item.sceneBoundingRect()
        assert any(box.contains(rect) for box in boxes), (item.text(), rect)
