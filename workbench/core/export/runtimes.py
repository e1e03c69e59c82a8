"""Running an exported artefact in its own runtime: TensorFlow (SavedModel), the LiteRT interpreter
(`ai-edge-litert`, else TensorFlow's deprecated `tf.lite.Interpreter`), ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def runtime_name(fmt: str) -> str:
    if fmt == "savedmodel":
        import tensorflow as tf

        return f"TensorFlow {tf.__version__}"
    if fmt == "litert":
        try:
            from importlib.metadata import version

            return f"ai-edge-litert {version('ai-edge-litert')}"
        except Exception:  # not installed: TensorFlow's own interpreter runs it
            import tensorflow as tf

            return f"tf.lite.Interpreter (TensorFlow {tf.__version__})"
    import onnxruntime

    return f"ONNX Runtime {onnxruntime.__version__}"


class Runner:
    """Predicts probabilities for raw uint8 (or float) pixels N × H × W × C with the artefact at `path`."""

    def __init__(self, path: str | Path, fmt: str):
        self.fmt = fmt
        path = str(path)
        if fmt == "savedmodel":
            import tensorflow as tf

            self._fn = tf.saved_model.load(path).signatures["serving_default"]
        elif fmt == "litert":
            try:
                from ai_edge_litert.interpreter import Interpreter
            except ImportError:  # TensorFlow 2.21 still ships its (deprecated) interpreter
                import tensorflow as tf

                Interpreter = tf.lite.Interpreter
            self._interpreter = Interpreter(model_path=path, num_threads=1)
            self._batch = None
        else:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            self._session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            self._input = self._session.get_inputs()[0].name

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(pixels, dtype=np.float32)
        if self.fmt == "savedmodel":
            return np.asarray(self._fn(pixels=x)["probabilities"], np.float32)
        if self.fmt == "onnx":
            return np.asarray(self._session.run(None, {self._input: x})[0], np.float32)
        it = self._interpreter
        if self._batch != len(x):
            it.resize_tensor_input(it.get_input_details()[0]["index"], list(x.shape))
            it.allocate_tensors()
            self._batch = len(x)
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        return np.asarray(it.get_tensor(it.get_output_details()[0]["index"]), np.float32)
