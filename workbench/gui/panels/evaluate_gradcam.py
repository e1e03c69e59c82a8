"""Grad-CAM in the Evaluate tab: a toggle and an opacity slider that lay "where the model looked when it
gave its answer" over the most confident mistakes and over the images of a clicked confusion cell. Each
map explains the class the model predicted for that image; maps are computed on the panel's task thread
and kept for the evaluation on screen."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

from workbench.gui.tasks import TaskError
from workbench.gui.widgets.heatmap import FALLBACK_COLOUR, OpacitySlider, explain_images, method_words, overlay_pixmap
from workbench.gui.widgets.qimage import array_to_pixmap
from workbench.gui.widgets.rich_text import html_text
from workbench.gui.wording import in_window_terms

TASK = "grad-cam"


class EvaluateGradcam(QObject):
    """Attached to an EvaluatePanel: ``controls`` (toggle, opacity, what the overlay means) go beside the
    mistakes' title. ``overlays_shown(where)`` ("mistakes" or "cell") once pictures were redrawn with maps."""

    overlays_shown = Signal(str)

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self._maps: dict[int, object] = {}  # test index -> ExplainedImage, for the evaluation on screen
        self._run = None
        self._loaded = None
        self.check = QCheckBox("Where it &looked")
        self.check.setToolTip("Lay Grad-CAM maps over the mistakes and a clicked cell's images: where the model "
                              "looked when it gave its (wrong) answer")
        self.check.toggled.connect(self._apply)
        self.slider = OpacitySlider()
        self.slider.setMaximumWidth(90)
        self.slider.valueChanged.connect(self._redraw)
        self.slider.setEnabled(False)
        self.note = QLabel("")
        self.note.setObjectName("gradcamNote")
        self.controls = QWidget()
        row = QHBoxLayout(self.controls)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.check)
        row.addWidget(self.slider)
        row.addWidget(self.note)
        panel.evaluation_finished.connect(self._on_evaluated)
        panel.cell_opened.connect(self._on_cell)

    # ---- when to draw ------------------------------------------------------------------------------
    @Slot(object)
    def _on_evaluated(self, _result) -> None:
        self.panel.tasks.cancel(TASK)
        self._maps.clear()
        self._run = self.panel.run
        self._loaded = self.panel.loaded  # the model that made these predictions explains them
        self._apply()

    @Slot(int, int, int)
    def _on_cell(self, _true: int, _predicted: int, _count: int) -> None:
        if self.check.isChecked():
            self._apply()

    @Slot()
    def refresh(self) -> None:
        """Redraw after the panel rebuilt its mistakes (e.g. the superclass view turned on or off)."""
        self._apply()

    @Slot()
    def _apply(self) -> None:
        on = self.check.isChecked()
        self.slider.setEnabled(on)
        if self.panel.run is not self._run:
            self._maps.clear()
            self._run = self.panel.run
        if not on or self._run is None:
            self._set_note("")
            self._draw()
            return
        wanted = [i for i in self._shown_indices() if i not in self._maps]
        if wanted:
            self._set_note("<small>computing…</small>")
            result = self._run.result
            classes = [int(result.y_pred[i]) for i in wanted]
            run = self._run
            images = [self._run.images[i] for i in wanted]
            self.panel.tasks.start(explain_images, self._loaded or self.panel.loaded, images, classes, None,
                                   name=TASK, supersede=False, pass_cancel=True,
                                   on_success=lambda maps: self._on_maps(run, wanted, maps),
                                   on_failure=self._on_failed)
        else:
            self._draw()

    def _shown_indices(self) -> list[int]:
        indices = list(self.panel.mistakes.indices)
        dialog = self.panel.cell_dialog
        if dialog is not None and dialog.isVisible():
            indices += list(dialog.grid.indices)
        return list(dict.fromkeys(indices))

    def _on_maps(self, run, indices, maps) -> None:
        if run is not self._run:
            return
        self._maps.update(zip(indices, maps))
        self._draw()

    def _on_failed(self, error: TaskError) -> None:
        message = in_window_terms(error.message)
        self._set_note(f"<small><span style='color:#b00020'>{html_text(message[:80])}</span></small>", message)

    def enlarged(self, index: int, image: np.ndarray, size: int = 320) -> tuple[np.ndarray, str]:
        """The picture to enlarge for a clicked test image: with its map while the overlay is on (and
        the sentence saying what it shows), else the image itself and no sentence."""
        m = self._maps.get(int(index)) if self.check.isChecked() and self._run is not None else None
        if m is None:
            return image, ""
        blended = overlay_pixmap(image, m.heat, self.slider.opacity(), size)[1]
        return blended, self._sentence(m, self._run.result.class_names)

    # ---- drawing -----------------------------------------------------------------------------------
    @Slot()
    def _redraw(self) -> None:
        if self.check.isChecked():
            self._draw()

    def _draw(self) -> None:
        run, on = self._run, self.check.isChecked()
        if run is None:
            return
        names = run.result.class_names
        opacity = self.slider.opacity()
        drawn = []
        for tile in self.panel.mistakes.tiles:
            m = self._maps.get(tile.index) if on else None
            self._paint(tile.picture, run.images[tile.index], m, opacity)
            base = tile.toolTip().split("\n")[0]
            tile.setToolTip(base + (f"\n{self._sentence(m, names)}" if m is not None else ""))
            drawn.append(m)
        dialog = self.panel.cell_dialog
        if dialog is not None:
            ms = []
            for tile, index in zip(dialog.grid.tiles, dialog.grid.indices):
                m = self._maps.get(index) if on else None
                self._paint(tile.image_label, run.images[index], m, opacity)
                ms.append(m)
            self._caption_dialog(dialog, [m for m in ms if m is not None], names)
            drawn += ms
        done = [m for m in drawn if m is not None]
        if on and done:
            self._say(done, names)
            self.overlays_shown.emit("cell" if dialog is not None and dialog.isVisible() else "mistakes")

    @staticmethod
    def _paint(label: QLabel, image: np.ndarray, m, opacity: float) -> None:
        size = label.width()
        if m is None:
            label.setPixmap(array_to_pixmap(image, size))
        else:
            label.setPixmap(overlay_pixmap(image, m.heat, opacity, size)[0])

    @staticmethod
    def _sentence(m, names) -> str:
        how = method_words(m.method) + (f" on {m.layer}" if m.layer else "")
        fallback = " — a fallback: " + m.note if m.method != "grad-cam" else ""
        return f"The model looked here when it said {names[m.class_index]} ({how}{fallback})."

    def _say(self, maps, names) -> None:
        m = maps[0]
        how = method_words(m.method) + (f" · {m.layer}" if m.layer else "")
        text = html_text(how)
        tip = f"Highlighted: where the model looked when it gave its answer (the “→” class), by {how}."
        if any(x.method != "grad-cam" for x in maps):
            text = f"<span style='color:{FALLBACK_COLOUR}'>⚠ {text} (fallback)</span>"
            tip += f" A fallback: {m.note}"
        self._set_note(f"<small>{text}</small>", tip)

    def _set_note(self, text: str, tip: str = "") -> None:
        self.note.setText(text)
        self.note.setToolTip(tip)
        self.panel._fit_mistakes()  # the strip's holder is sized to what it holds

    def _caption_dialog(self, dialog, maps, names) -> None:
        label = getattr(dialog, "gradcam_caption", None)
        if label is None:
            label = QLabel("")
            label.setWordWrap(True)
            dialog.layout().insertWidget(1, label)
            dialog.gradcam_caption = label
        said = {names[m.class_index] for m in maps}
        if not maps:
            label.setText("")
            label.hide()
            return
        what = f"said {next(iter(said))}" if len(said) == 1 else "gave its answer"
        how = method_words(maps[0].method) + (f" · {maps[0].layer}" if maps[0].layer else "")
        label.setText(f"Overlay: <b>the model looked here when it {html_text(what)}</b> <small>({html_text(how)})"
                      "</small>")
        label.show()
