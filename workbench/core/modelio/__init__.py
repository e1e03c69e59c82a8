"""Model files: saving with metadata (atomic) and reading that metadata without TensorFlow."""

from .metadata import METADATA_ATTR, METADATA_ENTRY, build_metadata, model_format, read_metadata, write_metadata
from .save import save_model

__all__ = [
    "METADATA_ATTR",
    "METADATA_ENTRY",
    "build_metadata",
    "model_format",
    "read_metadata",
    "save_model",
    "write_metadata",
]
