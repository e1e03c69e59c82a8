"""Opening a model: a button, drag and drop, a remembered recent list, and the setup box that shows what
the file holds and asks what it cannot tell (an architecture for weights-only files, trust for Lambda
layers, preprocessing, class names).

Inspecting and loading run in worker threads (``TaskRunner``); the GUI only ever reads plain
attributes of the loaded model and hands it back to the next worker.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.datasets import DATASETS
from workbench.core.modelio.preprocessing import PRESETS, PreprocessingSpec, remember_choices
from workbench.gui.settings import open_settings
from workbench.gui.widgets.combos import elide_combo
from workbench.gui.worker import TaskError, TaskRunner

MODEL_SUFFIXES = (".h5", ".hdf5", ".keras")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MODEL_FILTER = "Keras models (*.h5 *.hdf5 *.keras);;All files (*)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
RECENT_KEY = "models/recent"
RECENT_MAX = 10
JSON_ARCH = "__json__"


def is_model_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in MODEL_SUFFIXES


def split_paths(paths: Iterable[str | os.PathLike]) -> tuple[list[str], list[str]]:
    """(model files, everything else): dropped non-model files are treated as images, so a
    wrong file gets a clear message in its own row instead of vanishing."""
    models, others = [], []
    for p in paths:
        (models if is_model_path(p) else others).append(os.fspath(p))
    return models, others


def urls_to_paths(mime) -> list[str]:
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()] if mime.hasUrls() else []


# ---- recent list ---------------------------------------------------------------------------------

def recent_models() -> list[str]:
    """Model files opened before, newest first (missing files are dropped)."""
    raw = open_settings().value(RECENT_KEY, "")
    try:
        items = json.loads(raw) if isinstance(raw, str) and raw else []
    except ValueError:
        items = []
    return [p for p in items if isinstance(p, str) and os.path.exists(p)][:RECENT_MAX]


def add_recent_model(path: str | os.PathLike) -> list[str]:
    path = str(Path(path).resolve())
    items = [path] + [p for p in recent_models() if p != path]
    settings = open_settings()
    settings.setValue(RECENT_KEY, json.dumps(items[:RECENT_MAX]))  # JSON: ini lists of one come back as str
    settings.sync()
    return items[:RECENT_MAX]


# ---- worker-thread functions ----------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ModelOutcome:
    """What opening a model file gave: the inspection, and either a loaded model or what is still needed."""

    path: str
    info: object | None = None  # ModelFileInfo
    loaded: object | None = None  # LoadedModel (handed on to the next worker, only read here)
    needs: str = ""  # "", "architecture" (weights-only) or "trust" (Lambda layers with code)
    error: str = ""


def open_model_file(path: str, trust: bool = False, architecture: str | None = None) -> ModelOutcome:
    """Worker thread: inspect, then load (whole model, or weights into ``architecture``) and warm it up."""
    from workbench.core.modelio.inspect import ModelInspectError, inspect_model_file
    from workbench.core.modelio.load import ModelLoadError, load_any_model, load_weights_into

    try:
        info = inspect_model_file(path)
    except ModelInspectError as exc:
        return ModelOutcome(path, error=str(exc))
    if info.weights_only and not architecture:
        return ModelOutcome(path, info, needs="architecture")
    if info.lambda_layers and not trust:
        return ModelOutcome(path, info, needs="trust")
    try:
        if info.weights_only:
            loaded = load_weights_into(path, architecture, trust=trust)
        else:
            loaded = load_any_model(path, trust=trust)
    except ModelLoadError as exc:
        text = str(exc)
        if not trust and "Lambda layer" in text:
            return ModelOutcome(path, info, needs="trust", error=text)
        return ModelOutcome(path, info, needs="architecture" if info.weights_only else "", error=text)
    warm_up(loaded)
    return ModelOutcome(path, info, loaded)


def warm_up(loaded) -> None:
    """One tiny prediction, so the user's first image does not pay for TensorFlow's first call."""
    shape = tuple(32 if d is None else int(d) for d in loaded.input_shape)
    if len(shape) != 3:
        return
    try:
        loaded.predict_proba(np.zeros((1, *shape), np.uint8))
    except Exception:  # noqa: BLE001 - a model that cannot predict says so later, per image
        pass


# ---- widgets --------------------------------------------------------------------------------------

class _AcceptsModelDrops:
    """Drag-and-drop of model files onto a widget: the first dropped model goes to ``_model_dropped``."""

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        models, _ = split_paths(urls_to_paths(event.mimeData()))
        if models:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt name
        models, _ = split_paths(urls_to_paths(event.mimeData()))
        if models:
            event.acceptProposedAction()
            self._model_dropped(models[0])


class ModelPicker(_AcceptsModelDrops, QWidget):
    """"Open model…" plus a "Recent" menu; also accepts a dropped model file. Emits ``model_chosen``."""

    model_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.open_button = QPushButton("&Open model…")
        self.open_button.setToolTip("Open a Keras model (.h5 or .keras), or drop one here")
        self.open_button.clicked.connect(self.browse)
        self.recent_button = QToolButton()
        self.recent_button.setText("Recent")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self)
        self.recent_menu.aboutToShow.connect(self.refresh_recent)
        self.recent_menu.triggered.connect(self._on_recent)
        self.recent_button.setMenu(self.recent_menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.open_button)
        layout.addWidget(self.recent_button)
        layout.addStretch(1)
        self.setAcceptDrops(True)
        self.refresh_recent()

    @Slot()
    def refresh_recent(self) -> None:
        self.recent_menu.clear()
        items = recent_models()
        for path in items:
            action = self.recent_menu.addAction(Path(path).name)
            action.setData(path)
            action.setToolTip(path)
        if not items:
            self.recent_menu.addAction("(no models opened yet)").setEnabled(False)
        self.recent_button.setEnabled(bool(items))

    @Slot()
    def browse(self) -> None:
        start = str(Path(recent_models()[0]).parent) if recent_models() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", start, MODEL_FILTER)
        if path:
            self.model_chosen.emit(path)

    @Slot(QAction)
    def _on_recent(self, action: QAction) -> None:
        path = action.data()
        if path:
            self.model_chosen.emit(str(path))

    def _model_dropped(self, path: str) -> None:
        self.model_chosen.emit(path)


def _box(object_name: str) -> QFrame:
    frame = QFrame()
    frame.setObjectName(object_name)
    frame.setFrameShape(QFrame.Shape.StyledPanel)
    return frame


class ModelSetupBox(_AcceptsModelDrops, QWidget):
    """Open a model and say what it is; ask for an architecture, trust, preprocessing and class names.

    Emits ``model_loaded(LoadedModel)`` each time a usable model (or a changed choice) is ready.
    """

    model_loaded = Signal(object)
    load_failed = Signal(str)
    needs_input = Signal(str)  # "architecture" or "trust": the file waits for the user's answer
    busy_changed = Signal(bool)

    def __init__(self, runner: TaskRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner or TaskRunner(self)
        self.path: str | None = None
        self.info = None
        self.loaded = None
        self.busy = False
        self.last_error = ""

        title = QLabel("<b>Model</b>")
        self.picker = ModelPicker()
        self.picker.model_chosen.connect(self.open_model)
        self.name_label = QLabel("No model yet — open one or drop a .h5/.keras file here.")
        self.name_label.setWordWrap(True)
        self.name_label.setObjectName("modelName")
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_label.setObjectName("modelInfo")
        self.info_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        # weights-only: pick the architecture
        self.weights_box = _box("weightsBox")
        wl = QVBoxLayout(self.weights_box)
        self.weights_text = QLabel(
            "<b>Weights only.</b> This file holds the numbers of a network but not its shape "
            "(it was written with <i>save_weights</i>). Pick the architecture that produced it — one of "
            "ours, or a Keras JSON architecture file saved beside it."
        )
        self.weights_text.setWordWrap(True)
        self.arch_combo = QComboBox()
        from workbench.core.architectures import ARCHITECTURES

        for name, spec in ARCHITECTURES.items():
            self.arch_combo.addItem(spec.title, name)
            self.arch_combo.setItemData(self.arch_combo.count() - 1, spec.description, Qt.ItemDataRole.ToolTipRole)
        self.arch_combo.addItem("Architecture from a JSON file…", JSON_ARCH)
        elide_combo(self.arch_combo, 24)
        self.load_weights_button = QPushButton("Load &weights")
        self.load_weights_button.clicked.connect(self._on_load_weights)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.load_weights_button)
        wl.addWidget(self.weights_text)
        wl.addWidget(self.arch_combo)
        wl.addLayout(row)
        self.weights_box.hide()

        # Lambda layers: explicit trust
        self.trust_box = _box("trustBox")
        tl = QVBoxLayout(self.trust_box)
        self.trust_text = QLabel("")
        self.trust_text.setWordWrap(True)
        self.trust_button = QPushButton("&Trust this file and load it")
        self.trust_button.clicked.connect(self.trust_and_load)
        tl.addWidget(self.trust_text)
        tl.addWidget(self.trust_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.trust_box.hide()

        # choices
        self.preprocessing_combo = QComboBox()
        self.preprocessing_combo.setToolTip("How pixels 0..255 are scaled before the model sees them; remembered per file")
        self.preprocessing_combo.activated.connect(self._on_preprocessing_chosen)
        self.class_names_combo = QComboBox()
        self.class_names_combo.setToolTip("Where the names of the model's outputs come from")
        self.class_names_combo.activated.connect(self._on_class_names_chosen)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Preprocessing", self.preprocessing_combo)
        form.addRow("Class names", self.class_names_combo)
        self.options = QWidget()
        self.options.setLayout(form)
        self.options.setEnabled(False)

        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setObjectName("modelStatus")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.picker)
        layout.addWidget(self.name_label)
        layout.addWidget(self.info_label)
        layout.addWidget(self.weights_box)
        layout.addWidget(self.trust_box)
        layout.addWidget(self.options)
        layout.addWidget(self.status_label)
        self.setAcceptDrops(True)
        # Preferred, not Maximum: wrapped text may need more height than sizeHint() says (narrow columns)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    # ---- public --------------------------------------------------------------------------------
    @Slot(str)
    def open_model(self, path: str, trust: bool = False, architecture: str | None = None) -> None:
        """Inspect and load ``path`` in a worker; the outcome arrives in ``_on_outcome``."""
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
        self.name_label.setText(f"<b>{_html(Path(path).name)}</b><br><small>{_html(str(Path(path).parent))}</small>")
        self._set_status("Loading… (TensorFlow starts on first use)" if self.loaded is None else "Loading…")
        self._set_busy(True)
        self.runner.run_function(
            open_model_file, path, trust, architecture, name="open-model", on_success=self._on_outcome,
            on_failure=self._on_failure,
        )

    def load_weights(self, architecture: str) -> None:
        """Load the weights-only file into ``architecture`` (one of ours by name, or a .json path)."""
        if self.path:
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
        self.name_label.setText(f"<b>{_html(title)}</b>")
        self.weights_box.hide()
        self.trust_box.hide()
        self._use(loaded)

    def shutdown(self) -> None:
        self.runner.cancel_all()
        self.runner.wait_all()

    # ---- outcomes ------------------------------------------------------------------------------
    _trusted = False
    _chosen_arch: str | None = None

    @Slot(object)
    def _on_outcome(self, outcome: ModelOutcome) -> None:
        if outcome.path != self.path:
            return  # a newer file was chosen meanwhile
        self._set_busy(False)
        self.info = outcome.info or self.info
        self.info_label.setText(_html(self.info.describe()) if self.info is not None else "")
        if outcome.loaded is not None:
            self.weights_box.hide()
            self.trust_box.hide()
            self._use(outcome.loaded)
            return
        if outcome.needs == "architecture":
            self.weights_box.show()
            self.options.setEnabled(False)
        if outcome.needs == "trust":
            names = ", ".join(getattr(self.info, "lambda_layers", ()) or ()) or "a Lambda layer"
            self.trust_text.setText(
                f"<b>This file contains Python code</b> (Lambda layer: {_html(names)}). Loading it runs that code "
                "with your permissions, like running a script. Only continue if you trust where the file came from."
            )
            self.trust_box.show()
            self.options.setEnabled(False)
        if outcome.error:
            self._fail(outcome.error)
        elif outcome.needs:
            self._set_status("Waiting for your choice above.")
            self.needs_input.emit(outcome.needs)

    @Slot(object)
    def _on_failure(self, error: TaskError) -> None:
        self._set_busy(False)
        self._fail(error.message)

    def _fail(self, message: str) -> None:
        self.last_error = message
        self._set_status(message, error=True)
        self.load_failed.emit(message)

    def _use(self, loaded) -> None:
        self.loaded = loaded
        self.last_error = ""
        self._fill_choices()
        self.options.setEnabled(True)
        text = _html(self.info.describe()) + "<br>" if self.info is not None else ""
        logits = "logits (softmax applied here)" if loaded.outputs_logits else "probabilities"
        shape = "×".join("?" if d is None else str(d) for d in loaded.input_shape)
        text += f"<b>Loaded:</b> input {shape}, {loaded.num_classes} classes, outputs {logits}."
        for note in getattr(loaded, "notes", ()) or ():
            text += f"<br><i>{_html(note)}</i>"
        self.info_label.setText(text)
        self._set_status("Ready.")
        self.model_loaded.emit(loaded)

    # ---- choices -------------------------------------------------------------------------------
    def _is_ours(self) -> bool:
        meta = getattr(self.info, "metadata", None) if self.info is not None else None
        return bool(meta) or self.info is None

    def _fill_choices(self) -> None:
        loaded = self.loaded
        combo = self.preprocessing_combo
        combo.clear()
        current = loaded.preprocessing
        found = -1
        for key, spec in PRESETS.items():
            combo.addItem(spec.describe(), key)
            if spec == current:
                found = combo.count() - 1
        if found < 0:
            combo.addItem(current.describe(), current.to_dict())
            found = combo.count() - 1
        combo.setCurrentIndex(found)
        ours = self._is_ours()
        combo.setEnabled(not ours)
        combo.setToolTip(
            "Fixed: workbench models scale pixels inside the network." if ours
            else "How pixels 0..255 are scaled before the model sees them; remembered for this file."
        )

        names = self.class_names_combo
        names.clear()
        n = loaded.num_classes
        meta = getattr(self.info, "metadata", None) or {}
        sources: list[tuple[str, str, tuple[str, ...]]] = []
        if meta.get("class_names") and len(meta["class_names"]) == n:
            sources.append(("From the model file", "metadata", tuple(meta["class_names"])))
        for ds_id, info in DATASETS.items():
            if info.num_classes == n:
                sources.append((f"{info.title}", f"dataset:{ds_id}", tuple(info.class_names)))
        sources.append((f"Numbered (class 0 … {n - 1})", "numbered", tuple(f"class {i}" for i in range(n))))
        self._name_sources = {key: value for _, key, value in sources}
        selected = -1
        for label, key, value in sources:
            names.addItem(label, key)
            if selected < 0 and value == tuple(loaded.class_names):
                if key != "metadata" or loaded.dataset_id in (None, meta.get("dataset")):
                    selected = names.count() - 1
        if selected < 0:
            names.addItem("Given by the caller", "given")
            self._name_sources["given"] = tuple(loaded.class_names)
            selected = names.count() - 1
        names.setCurrentIndex(selected)

    @Slot(int)
    def _on_preprocessing_chosen(self, index: int) -> None:
        if self.loaded is None:
            return
        data = self.preprocessing_combo.itemData(index)
        spec = PRESETS[data] if isinstance(data, str) else PreprocessingSpec.from_dict(data)
        if spec == self.loaded.preprocessing:
            return
        new = self.loaded.with_preprocessing(spec)
        if self.path and os.path.exists(self.path):
            with _suppress_os_errors():
                remember_choices(self.path, preprocessing=spec)
        self._use(new)

    @Slot(int)
    def _on_class_names_chosen(self, index: int) -> None:
        if self.loaded is None:
            return
        key = self.class_names_combo.itemData(index)
        names = self._name_sources.get(key)
        if names is None or tuple(names) == tuple(self.loaded.class_names):
            return
        dataset_id = key.split(":", 1)[1] if isinstance(key, str) and key.startswith("dataset:") else None
        meta = getattr(self.info, "metadata", None) or {}
        if key == "metadata":
            dataset_id = meta.get("dataset")
        new = self.loaded.with_class_names(names, dataset_id)
        if self.path and os.path.exists(self.path) and not meta:
            with _suppress_os_errors():
                remember_choices(self.path, class_names_source=dataset_id or "")
        self._use(new)

    def choose_class_names(self, key: str) -> None:
        """Pick a class-names source by key: "metadata", "dataset:<id>" or "numbered"."""
        i = self.class_names_combo.findData(key)
        if i >= 0:
            self.class_names_combo.setCurrentIndex(i)
            self._on_class_names_chosen(i)

    def choose_preprocessing(self, key: str) -> None:
        """Pick a preprocessing preset by name (see ``PRESETS``)."""
        i = self.preprocessing_combo.findData(key)
        if i >= 0:
            self.preprocessing_combo.setCurrentIndex(i)
            self._on_preprocessing_chosen(i)

    @Slot()
    def _on_load_weights(self) -> None:
        arch = self.arch_combo.currentData()
        if arch == JSON_ARCH:
            start = str(Path(self.path).parent) if self.path else ""
            path, _ = QFileDialog.getOpenFileName(self, "Architecture (Keras to_json) file", start,
                                                  "JSON files (*.json);;All files (*)")
            if not path:
                return
            arch = path
        self._chosen_arch = arch
        self.load_weights(arch)

    def _model_dropped(self, path: str) -> None:
        self.open_model(path)

    # ---- helpers -------------------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.picker.setEnabled(not busy)
        self.load_weights_button.setEnabled(not busy)
        self.trust_button.setEnabled(not busy)
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


def _html(text: str) -> str:
    return (
        str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
    )


def dataset_ids_for(num_classes: int) -> Sequence[str]:
    return [ds_id for ds_id, info in DATASETS.items() if info.num_classes == num_classes]
