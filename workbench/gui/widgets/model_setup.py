"""The model setup box: open a model (button, drop, recent list), show what the file holds, and ask what
it cannot tell — an architecture for weights-only files, trust for Lambda code — then offer the
preprocessing and class-names choices with the reason for each.

Every decision comes from the core's one entry point, ``open_model``, run in a worker thread
(the panel's ``PanelTasks``); this box only shows its ``ModelOpening`` and asks the questions it leaves
open. The parts live in ``model_picker`` (choosing a file), ``model_questions`` (architecture, trust) and
``model_choices`` (preprocessing, class names).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from workbench.core.modelio.preprocessing import remember_choices
from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.model_choices import CHOSEN_HERE, NAMES_CHOSEN_HERE, ModelChoices
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.model_files import AcceptsModelDrops, add_recent_model
from workbench.gui.widgets.model_picker import ModelPicker
from workbench.gui.widgets.model_questions import TrustBox, WeightsArchitectureBox
from workbench.gui.widgets.rich_text import html_text


def open_model_file(path: str, trust: bool = False, architecture: str | None = None):
    """Worker thread: the core's ``open_model``, then one tiny prediction to warm the loaded model up."""
    from workbench.core.modelio.open import open_model

    opening = open_model(path, trust=trust, architecture=architecture)
    if opening.loaded is not None:
        warm_up(opening.loaded)
    return opening


def warm_up(loaded) -> None:
    """One tiny prediction, so the user's first image does not pay for TensorFlow's first call."""
    shape = tuple(32 if d is None else int(d) for d in loaded.input_shape)
    if len(shape) != 3:
        return
    try:
        loaded.predict_proba(np.zeros((1, *shape), np.uint8))
    except Exception:  # noqa: BLE001 - a model that cannot predict says so later, per image
        pass


class ModelSetupBox(AcceptsModelDrops, QWidget):
    """Open a model and say what it is; ask for an architecture, trust, preprocessing and class names.

    Emits ``model_loaded(LoadedModel)`` each time a usable model (or a changed choice) is ready.
    """

    model_loaded = Signal(object)
    load_failed = Signal(str)
    needs_input = Signal(str)  # "architecture" or "trust": the file waits for the user's answer
    busy_changed = Signal(bool)

    def __init__(self, runner: PanelTasks | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner or PanelTasks(self)
        self.path: str | None = None
        self.info = None
        self.loaded = None
        self.busy = False
        self.last_error = ""
        self._trusted = False
        self._chosen_arch: str | None = None

        title = QLabel("<b>Model</b>")
        self.picker = ModelPicker()
        self.picker.model_chosen.connect(self.open_model)
        self.name_label = MessageLabel("No model yet — open one or drop a .h5/.keras file here.")  # long names wrap
        self.name_label.setObjectName("modelName")
        self.info_label = MessageLabel("")
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_label.setObjectName("modelInfo")
        self.info_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.weights_box = WeightsArchitectureBox()
        self.weights_box.architecture_chosen.connect(self._on_architecture_chosen)
        self.weights_box.hide()
        self.arch_combo = self.weights_box.arch_combo
        self.trust_box = TrustBox()
        self.trust_box.trusted.connect(self.trust_and_load)
        self.trust_box.hide()
        self.trust_text = self.trust_box.text
        self.options = ModelChoices()
        self.options.preprocessing_chosen.connect(self._on_preprocessing_chosen)
        self.options.class_names_chosen.connect(self._on_class_names_chosen)
        self.preprocessing_combo = self.options.preprocessing_combo
        self.class_names_combo = self.options.class_names_combo
        self.status_label = MessageLabel("")
        self.status_label.setObjectName("modelStatus")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (title, self.picker, self.name_label, self.info_label, self.weights_box, self.trust_box,
                       self.options, self.status_label):
            layout.addWidget(widget)
        self.setAcceptDrops(True)
        # Preferred, not Maximum: wrapped text may need more height than sizeHint() says (narrow columns)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    # ---- public --------------------------------------------------------------------------------
    @Slot(str)
    def open_model(self, path: str, trust: bool = False, architecture: str | None = None) -> None:
        """Open ``path`` through the core's ``open_model`` in a worker; the answer arrives in ``_on_opening``."""
        path = os.fspath(path)
        self.path = path
        if not architecture and not trust:  # a fresh file: forget the answers given for the last one
            self.info = None
            self._trusted = False
            self._chosen_arch = None
            self.weights_box.hide()
            self.trust_box.hide()
        with _suppress_os_errors():
            add_recent_model(path)
        self.picker.refresh_recent()
        self.name_label.setText(f"<b>{html_text(Path(path).name)}</b><br><small>{html_text(Path(path).parent)}</small>")
        self._set_status("Loading… (TensorFlow starts on first use)" if self.loaded is None else "Loading…")
        self._set_busy(True)
        self.runner.start(
            open_model_file, path, trust, architecture, name="open-model", on_success=self._on_opening,
            on_failure=self._on_failure,
        )

    def load_weights(self, architecture: str) -> None:
        """Load the weights-only file into ``architecture`` (one of ours by name, or a .json path)."""
        if self.path:
            self._chosen_arch = architecture
            self.open_model(self.path, trust=self._trusted, architecture=architecture)

    @Slot()
    def trust_and_load(self) -> None:
        if self.path:
            self._trusted = True
            arch = self._chosen_arch if self.info is not None and getattr(self.info, "weights_only", False) else None
            self.open_model(self.path, trust=True, architecture=arch)

    def set_model(self, loaded, source: str = "") -> None:
        """Use an already loaded model (e.g. one just trained); emits ``model_loaded``."""
        if loaded is self.loaded:
            return  # already in use (panels that forward models to each other stop here)
        self.path = getattr(loaded, "path", None)
        self.info = getattr(loaded, "info", None)
        title = source or (Path(self.path).name if self.path else "model in memory")
        self.name_label.setText(f"<b>{html_text(title)}</b>")
        self.weights_box.hide()
        self.trust_box.hide()
        self._use(loaded)

    def choose_class_names(self, key: str) -> None:
        """Pick a class-names source by key: "metadata", "dataset:<id>" or "numbered"."""
        self.options.select_class_names(key)

    def choose_preprocessing(self, key: str) -> None:
        """Pick a preprocessing preset by name (see ``PRESETS``)."""
        self.options.select_preprocessing(key)

    def shutdown(self) -> None:
        self.runner.cancel_all()
        self.runner.wait_all()

    # ---- the core's answer -----------------------------------------------------------------------
    @Slot(object)
    def _on_opening(self, opening) -> None:
        if opening.path != self.path:
            return  # a newer file was chosen meanwhile
        self._set_busy(False)
        self.info = opening.info or self.info
        self.info_label.setText(html_text(self.info.describe()) if self.info is not None else "")
        if opening.loaded is not None:
            self.weights_box.hide()
            self.trust_box.hide()
            self._use(opening.loaded)
            return
        if opening.needs == "architecture":
            self.weights_box.ask(opening.path, opening.suggested_architecture)
            self.options.setEnabled(False)
        elif opening.needs == "trust":
            self.trust_box.ask(getattr(self.info, "lambda_layers", ()))
            self.options.setEnabled(False)
        if opening.error:
            self._fail(opening.message)
        elif opening.needs:
            self._set_status(html_text(opening.message) + "<br>Waiting for your choice above.")
            self.needs_input.emit(opening.needs)

    @Slot(object)
    def _on_failure(self, error: TaskError) -> None:
        self._set_busy(False)
        self._fail(error.message)

    def _fail(self, message: str) -> None:
        self.last_error = message
        self._set_status(html_text(message), error=True)
        self.load_failed.emit(message)

    def _use(self, loaded) -> None:
        self.loaded = loaded
        self.last_error = ""
        meta = getattr(self.info, "metadata", None) if self.info is not None else None
        # Ours (metadata records the preprocessing) or a model in memory: nothing to choose.
        fixed = self.info is None or bool(meta and meta.get("preprocessing"))
        self.options.show_model(loaded, meta, fixed)
        text = html_text(self.info.describe()) + "<br>" if self.info is not None else ""
        logits = "logits (softmax applied here)" if loaded.outputs_logits else "probabilities"
        shape = "×".join("?" if d is None else str(d) for d in loaded.input_shape)
        text += f"<b>Loaded:</b> input {shape}, {loaded.num_classes} classes, outputs {logits}."
        for note in getattr(loaded, "notes", ()) or ():
            text += f"<br><i>{html_text(note)}</i>"
        self.info_label.setText(text)
        self._set_status("Ready.")
        self.model_loaded.emit(loaded)

    # ---- choices -------------------------------------------------------------------------------
    @Slot(object)
    def _on_preprocessing_chosen(self, spec) -> None:
        if self.loaded is None or spec == self.loaded.preprocessing:
            return
        new = self.loaded.with_preprocessing(spec, reason=CHOSEN_HERE)
        if self.path and os.path.exists(self.path):
            with _suppress_os_errors():
                remember_choices(self.path, preprocessing=spec)
        self._use(new)

    @Slot(object, object, str)
    def _on_class_names_chosen(self, names, dataset_id, key: str) -> None:
        if self.loaded is None or tuple(names) == tuple(self.loaded.class_names):
            return
        meta = getattr(self.info, "metadata", None) or {}
        source = "saved in the file" if key == "metadata" else NAMES_CHOSEN_HERE
        new = self.loaded.with_class_names(names, dataset_id, source=source)
        if self.path and os.path.exists(self.path) and not meta:
            with _suppress_os_errors():
                remember_choices(self.path, class_names_source=dataset_id or "")
        self._use(new)

    @Slot(str)
    def _on_architecture_chosen(self, architecture: str) -> None:
        self.load_weights(architecture)

    def _model_dropped(self, path: str) -> None:
        self.open_model(path)

    # ---- helpers -------------------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.picker.setEnabled(not busy)
        self.weights_box.load_button.setEnabled(not busy)
        self.trust_box.button.setEnabled(not busy)
        self.busy_changed.emit(busy)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setStyleSheet("color: #b00020;" if error else "color: #555;")
        self.status_label.setText(text)


class _suppress_os_errors:
    """Remembering a choice is a convenience: a read-only settings folder must not break loading."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        return exc_type is not None and issubclass(exc_type, OSError)
