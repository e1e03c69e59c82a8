"""Running a loaded model on images without believing broken answers: outputs that are not finite
(a model whose training diverged) are refused, and TensorFlow's errors become one whole sentence.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

# Pieces of a TensorFlow error text that are locations, not the reason ("[[{{node x}}]]", "[Op:...] name:").
_TF_NOISE = re.compile(r"\[\[.*?\]\]|\[Op:[^\]]*\]( name:\s*\S*)?|\{\{function_node [^}]*\}\}")
# Lines of a TensorFlow/Keras error that are headers, stack frames or argument lists rather than the reason.
_TF_FRAME = re.compile(r"^(Graph execution error|Detected at node|File \"|Stack trace|in user code|Traceback|"
                       r"Error in user-defined function|Node:|Exception encountered when calling|Arguments received)")
# Longest reason quoted from TensorFlow: enough for "indices[3] = 12 is not in [0, 10)".
MAX_REASON_CHARS = 240


class PredictionError(ValueError):
    """The model could not give usable answers for these images; str() is one readable sentence."""


class NonFiniteOutputError(PredictionError):
    """The model's outputs contain NaN or infinity: it is broken (typically, training diverged)."""


def model_name(loaded: Any) -> str:
    """The model's file name for messages, or "The model" for an in-memory one."""
    path = getattr(loaded, "path", None)
    return Path(path).name if path else "The model"


def check_finite(probs: np.ndarray, loaded: Any) -> np.ndarray:
    """``probs`` unchanged when every value is finite; otherwise NonFiniteOutputError naming the file."""
    probs = np.asarray(probs)
    if np.isfinite(probs).all():
        return probs
    what = "NaN" if np.isnan(probs).any() else "infinite values"
    raise NonFiniteOutputError(
        f"{model_name(loaded)} outputs {what} for these images: the model is broken (for example, its "
        "training diverged); retrain it, e.g. with a smaller learning rate."
    )


def tf_reason(exc: BaseException) -> str:
    """The line of a TensorFlow/Keras error that says what went wrong, without node names or frames."""
    from workbench.core.text import sanitize

    # Indented lines are stack frames and argument lists; Keras also colours its text with ANSI codes.
    lines = [_TF_NOISE.sub("", sanitize(line, 10_000)).strip() for line in str(exc).splitlines()
             if not line.startswith((" ", "\t"))]
    reasons = [line for line in lines if line and not _TF_FRAME.match(line)]
    reason = (reasons[-1] if reasons else type(exc).__name__).rstrip(" :.")
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "…"
    return reason


def predict_checked(loaded: Any, x: np.ndarray, **kwargs: Any) -> np.ndarray:
    """``loaded.predict_proba(x)``, refusing non-finite outputs; any failure is a PredictionError sentence."""
    from workbench.core.modelio.loaded_model import ModelInputError

    try:
        probs = loaded.predict_proba(x, **kwargs)
    except ModelInputError as exc:
        raise PredictionError(str(exc)) from None
    except MemoryError:
        raise PredictionError(f"{model_name(loaded)} needs more memory than is free to run on these images.") from None
    except Exception as exc:  # noqa: BLE001 - TensorFlow raises many types; the user gets one sentence
        raise PredictionError(
            f"{model_name(loaded)} failed while predicting ({tf_reason(exc)}); "
            "the model does not work on these inputs."
        ) from None
    return check_finite(probs, loaded)
