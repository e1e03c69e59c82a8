"""Where a model looked: an explanation map laid over its picture, with an opacity slider, the class it
explains (any of the image's top-k) and what method made it (Grad-CAM, or the saliency fallback, said so).

The blend is the core's `explain.overlay.overlay` (numpy only, no TensorFlow), done here on the GUI thread:
a 32×32 picture takes well under a millisecond, so the slider redraws at once.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QVBoxLayout, QWidget

from workbench.gui.widgets.qimage import array_to_qimage
from workbench.gui.widgets.rich_text import html_text

DEFAULT_OPACITY = 0.5
FALLBACK_COLOUR = "#a05a00"  # amber, as every guess the window shows


def method_words(method: str) -> str:
    return "Grad-CAM" if method == "grad-cam" else "gradient × input saliency"


def overlay_pixmap(image: np.ndarray, heat: np.ndarray, opacity: float, size: int) -> tuple[QPixmap, np.ndarray]:
    """The map over the picture, drawn ``size`` pixels square; also the blended array (for tests).

    The picture is enlarged crisp by a whole factor first and the map (the picture's height × width)
    blended over it smoothly, so the colours are not blocks of the model's 32 pixels."""
    from workbench.core.explain.overlay import enlarge, overlay

    image = np.asarray(image, dtype=np.uint8)
    factor = max(1, size // max(image.shape[:2]))
    blended = overlay(enlarge(image, factor), np.asarray(heat, dtype=np.float32), float(opacity))
    qimg = array_to_qimage(blended).scaled(size, size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation)
    return QPixmap.fromImage(qimg), blended


class OpacitySlider(QSlider):
    """0..100 %; ``opacity()`` as a fraction."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setRange(0, 100)
        self.setValue(int(DEFAULT_OPACITY * 100))
        self.setToolTip("How strongly the map covers the picture")
        self.setMinimumWidth(60)

    def opacity(self) -> float:
        return self.value() / 100.0


class HeatmapBox(QWidget):
    """One picture with its explanation: the overlay, the class explained (a choice among ``classes``,
    (index, name, probability) best first), an opacity slider, and the method in words.

    ``set_map`` shows a computed map; ``class_wanted(index)`` asks the owner for another class's map;
    ``overlay_shown`` is emitted each time the overlay is drawn."""

    class_wanted = Signal(int)
    overlay_shown = Signal()

    def __init__(self, size: int, classes: Sequence[tuple[int, str, float]] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.size_px = int(size)
        self.image: np.ndarray | None = None
        self.heat: np.ndarray | None = None
        self.blended: np.ndarray | None = None
        self.method = ""
        self.picture = QLabel()
        self.picture.setFixedSize(self.size_px, self.size_px)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: #f0f0f0;")
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("Which class's evidence to show (each of this image's top guesses)")
        for index, name, p in classes:
            self.class_combo.addItem(f"{name} {p * 100:.0f} %", int(index))
        self.class_combo.setMaximumWidth(self.size_px + 40)
        self.class_combo.currentIndexChanged.connect(self._on_class_changed)
        self.slider = OpacitySlider()
        self.slider.setMaximumWidth(self.size_px)
        self.slider.valueChanged.connect(self._redraw)
        self.caption = QLabel("<small>where it looked…</small>")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.caption.setWordWrap(True)
        self.caption.setFixedWidth(self.size_px + 40)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.slider, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.class_combo, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption, 0, Qt.AlignmentFlag.AlignHCenter)

    def class_index(self) -> int | None:
        """The class whose map is wanted (the top guess until the user picks another)."""
        data = self.class_combo.currentData()
        return None if data is None else int(data)

    def set_map(self, image: np.ndarray, heat: np.ndarray, *, method: str, layer: str | None, note: str = "",
                class_name: str = "") -> None:
        self.image, self.heat, self.method = image, heat, method
        words = method_words(method)
        where = f" · {layer}" if layer else ""
        if method == "grad-cam":
            self.caption.setText(f"<small>{words}{html_text(where)}</small>")
        else:  # a fallback is never shown as if it were Grad-CAM
            self.caption.setText(f"<small><span style='color:{FALLBACK_COLOUR}'>⚠ {words} (fallback)</span></small>")
        tip = f"{words} for “{class_name}”{where}" if class_name else f"{words}{where}"
        self.picture.setToolTip(tip + (f"\n{note}" if note else ""))
        self.caption.setToolTip(note or tip)
        self._redraw()

    def set_failed(self, message: str) -> None:
        self.image = self.heat = self.blended = None
        self.picture.clear()
        self.caption.setText(f"<small><span style='color:#b00020'>{html_text(message)}</span></small>")
        self.caption.setToolTip(message)

    def note(self) -> str:
        return self.caption.toolTip()

    @Slot()
    def _redraw(self) -> None:
        if self.image is None or self.heat is None:
            return
        pixmap, self.blended = overlay_pixmap(self.image, self.heat, self.slider.opacity(), self.size_px)
        self.picture.setPixmap(pixmap)
        self.overlay_shown.emit()

    @Slot(int)
    def _on_class_changed(self, _position: int) -> None:
        index = self.class_index()
        if index is not None:
            self.caption.setText("<small>computing…</small>")
            self.class_wanted.emit(index)


# ---- the worker side (plain data in and out) ---------------------------------------------------------

class ExplainedImage:
    """One image's map and what made it (plain data, handed from the worker thread)."""

    __slots__ = ("heat", "class_index", "probability", "layer", "method", "note")

    def __init__(self, heat, class_index, probability, layer, method, note) -> None:
        self.heat, self.class_index, self.probability = heat, int(class_index), float(probability)
        self.layer, self.method, self.note = layer, method, note


def explain_images(loaded, images: Sequence[np.ndarray], classes: Sequence[int | None], layer: str | None,
                   cancel=None) -> tuple[ExplainedImage, ...]:
    """Worker thread: the core's `explain` for each image and its class (None: its top guess), in one call
    (two where some images name their class and some do not)."""
    from workbench.core.explain.gradcam import explain, zero_map_note

    out: list[ExplainedImage | None] = [None] * len(images)
    given = [i for i, c in enumerate(classes) if c is not None]
    top = [i for i, c in enumerate(classes) if c is None]
    for idx, wanted in ((given, [int(classes[i]) for i in given]), (top, None)):
        if not idx:
            continue
        if cancel is not None and cancel.is_set():
            raise InterruptedError("cancelled")
        e = explain(loaded, np.stack([np.asarray(images[i]) for i in idx]), class_index=wanted, layer=layer)
        for j, i in enumerate(idx):
            note = " ".join(n for n in (e.note, zero_map_note(e, j)) if n)
            out[i] = ExplainedImage(np.asarray(e.maps[j], np.float32), int(e.class_indices[j]),
                                    float(e.probabilities[j]), e.layer, e.method, note)
    return tuple(out)


def spatial_layers(loaded) -> tuple[tuple[str, ...], str | None]:
    """Worker thread: the model's layers with height × width, and the one Grad-CAM uses by default."""
    from workbench.core.explain import graph

    names = tuple(info.name for info in graph.layers(loaded.model) if info.spatial)
    return names, graph.last_spatial_layer(loaded.model)
