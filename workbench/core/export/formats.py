"""Writing the serving function in each format, with the workbench's metadata inside the artefact.

- SavedModel: a folder; the metadata is the asset `assets/workbench.json`.
- LiteRT (.tflite): the flatbuffer with a zip archive holding `workbench.json` appended — the layout of
  TFLite Support's "associated files" (the interpreter reads the flatbuffer and ignores what follows, and
  `zipfile` reads the archive from the end), used because the metadata-writer package (tflite-support)
  has no wheels for Python 3.12+.
- ONNX: the model's `metadata_props` (key `workbench`, the same JSON), written with tf2onnx.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from workbench.core.modelio.artefacts import META_NAME, ONNX_META_KEY
from workbench.core.modelio.artefacts import read_artefact_metadata as _read_metadata

FORMATS = ("savedmodel", "litert", "onnx")
SUFFIXES = {"savedmodel": "", "litert": ".tflite", "onnx": ".onnx"}
QUANTIZE = ("none", "float16", "int8")
ONNX_OPSET = 17
TF_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"


class ExportError(Exception):
    """An export that cannot be made or did not pass its check; str() is one sentence."""


def write_savedmodel(serve, model, out_dir: Path, metadata: dict) -> None:
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix=".export-meta-") as tmp:
        meta_file = Path(tmp) / META_NAME
        meta_file.write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        module = tf.Module()
        module.model = model  # tracks the weights
        module.serve = serve
        module.workbench_metadata = tf.saved_model.Asset(str(meta_file))
        tf.saved_model.save(module, str(out_dir), signatures={"serving_default": serve})


def frozen_function(serve):
    """The serving function with every variable folded into a constant, still named pixels → probabilities."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(serve.get_concrete_function())

    # Freezing drops the output's name; calling it from a named function gives LiteRT a signature
    # "serving_default" with input "pixels" and output "probabilities" (the SavedModel's and ONNX's names).
    @tf.function(input_signature=serve.input_signature)
    def named(pixels):
        return {"probabilities": frozen(pixels)[0]}

    return named.get_concrete_function()


def write_litert(serve, out_file: Path, metadata: dict, quantize: str,
                 representative: Callable[[], Iterable] | None) -> None:
    import tensorflow as tf

    # From the frozen function: from_saved_model keeps state variables (e.g. a RandomFlip's seed) as
    # resource variables that LiteRT leaves uninitialised, and every output came out NaN (TF 2.21).
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen_function(serve)], tf.Module())
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        # int8 weights and activations inside; float32 pixels in and probabilities out, as the float exports.
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
    flat = converter.convert()
    out_file.write_bytes(bytes(flat) + _zip_bytes(metadata))


def _zip_bytes(metadata: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(META_NAME, json.dumps(metadata, indent=2))
    return buffer.getvalue()


@contextmanager
def tf_log_level_kept():
    """tf2onnx sets TF_CPP_MIN_LOG_LEVEL=3 in os.environ when imported and while converting; every training
    process started later inherits it and its log would lose TensorFlow's error lines, so it is put back."""
    before = os.environ.get(TF_LOG_LEVEL)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(TF_LOG_LEVEL, None)
        else:
            os.environ[TF_LOG_LEVEL] = before


def write_onnx(serve, out_file: Path, metadata: dict) -> None:
    import onnx

    with tf_log_level_kept():
        import tf2onnx
        from keras.src.export.tf2onnx_lib import patch_tf2onnx

        patch_tf2onnx()  # Keras' own fixes for tf2onnx 1.17 on numpy 2 (what keras' export("onnx") runs)
        spec = serve.input_signature
        proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=ONNX_OPSET)
    onnx.helper.set_model_props(proto, {ONNX_META_KEY: json.dumps(metadata)})
    out_file.write_bytes(proto.SerializeToString())


def read_artefact_metadata(path: str | Path, fmt: str) -> dict:
    """The workbench metadata recorded inside an exported artefact (for tests and for reading back)."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    return _read_metadata(path, fmt)


def representative_from(images: np.ndarray, count: int = 200) -> Callable[[], Iterable]:
    """The converter's calibration feed: up to `count` images, one at a time, as float32 raw pixels."""
    chosen = np.asarray(images)[:count]

    def feed():
        for image in chosen:
            yield [image[None].astype(np.float32)]

    return feed
