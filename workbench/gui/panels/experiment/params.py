"""The experiment form's parameter count: what it is counted for, and the worker-thread function."""

from __future__ import annotations

from typing import Any

# arch, classes, image shape (h, w, c), options (sorted items)
ParamKey = tuple[str, int, tuple[int, int, int], tuple[tuple[str, Any], ...]]


def count_params_task(key: ParamKey) -> tuple[ParamKey, int]:
    """Runs on a worker thread (builds the model, so it imports TensorFlow there)."""
    from workbench.core.architectures import count_params

    arch, num_classes, shape, options = key
    return key, int(count_params(arch, num_classes, input_shape=shape, **dict(options)))
