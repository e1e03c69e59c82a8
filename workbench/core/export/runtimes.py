"""Running an exported artefact in its own runtime: TensorFlow (SavedModel), the LiteRT interpreter
(`ai-edge-litert`, else TensorFlow's deprecated `tf.lite.Interpreter`), ONNX Runtime.

The runner lives in core/modelio/artefacts (opening an artefact for evaluate and classify uses it too)."""

from workbench.core.modelio.artefacts import Runner, runtime_name

__all__ = ["Runner", "runtime_name"]
