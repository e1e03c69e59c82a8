"""Model files: saving with metadata (atomic), inspecting any file with h5py, loading old and new Keras.

`open_model(path, ...)` is the one way to open a model (CLI and GUI alike): a frozen `ModelOpening`
saying what the file is, what was loaded (with why each choice was made) or what is still needed.
Everything here imports without TensorFlow; loading pulls it in lazily.
"""

from .artefacts import artefact_format, not_available
from .inspect import ModelFileInfo, ModelInspectError, inspect_model_file
from .loaded_model import LoadedModel, ModelInputError, ModelLoadError, detect_logits
from .open import NEEDS_ARCHITECTURE, NEEDS_TRUST, ModelOpening, load_any_model, load_weights_into, open_model, suggest_architecture
from .metadata import METADATA_ATTR, METADATA_ENTRY, build_metadata, model_format, read_metadata, write_metadata
from .preprocessing import (
    PRESETS,
    PreprocessingSpec,
    preprocessing_from,
    remember_choices,
    remember_preprocessing,
    remembered_choices,
    remembered_preprocessing,
)
from .save import save_model

__all__ = [
    "artefact_format",
    "not_available",
    "NEEDS_ARCHITECTURE",
    "NEEDS_TRUST",
    "ModelOpening",
    "open_model",
    "suggest_architecture",
    "METADATA_ATTR",
    "METADATA_ENTRY",
    "PRESETS",
    "LoadedModel",
    "ModelFileInfo",
    "ModelInputError",
    "ModelInspectError",
    "ModelLoadError",
    "PreprocessingSpec",
    "build_metadata",
    "detect_logits",
    "inspect_model_file",
    "load_any_model",
    "load_weights_into",
    "model_format",
    "preprocessing_from",
    "read_metadata",
    "remember_choices",
    "remember_preprocessing",
    "remembered_choices",
    "remembered_preprocessing",
    "save_model",
    "write_metadata",
]
