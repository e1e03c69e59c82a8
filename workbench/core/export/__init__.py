"""Export a model for use outside the workbench: TensorFlow SavedModel, LiteRT (.tflite) or ONNX.

The artefact takes raw 0–255 RGB pixels (float32, NHWC) with the model's preprocessing inside and
returns probabilities; class names, input size, preprocessing and the source's sha256 are recorded in it,
a model card is written beside it, and it is checked in its own runtime against Keras before it is placed.

- graph: the serving function (preprocessing, float32 copy of a mixed-precision model, softmax, temperature)
- formats: writing each format with its metadata, and reading the metadata back
- runtimes: running an artefact in TensorFlow, the LiteRT interpreter or ONNX Runtime
- check: agreement, max |Δp| and latency against Keras
- sources: check and calibration images, the source run's facts
- card: MODEL.md + model.json
- api: export_model
"""

from .api import ExportCancelled, ExportReport, check_request, export_model
from .check import MIN_AGREEMENT, CheckResult
from .formats import FORMATS, QUANTIZE, ExportError, read_artefact_metadata
from .runtimes import Runner

__all__ = ["FORMATS", "MIN_AGREEMENT", "QUANTIZE", "CheckResult", "ExportCancelled", "ExportError", "ExportReport", "Runner",
           "check_request", "export_model", "read_artefact_metadata"]
