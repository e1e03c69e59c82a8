"""A plain-data view of a built model's layers, for the GUI's model view and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LayerRow:
    """One layer: its name, Keras class, output shape (None = batch), parameter count, inputs."""

    name: str
    class_name: str
    output_shape: tuple
    params: int
    inbound: tuple[str, ...]  # names of the layers feeding this one; two for a residual Add


def _inbound_names(layer: Any) -> tuple[str, ...]:
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if not nodes:
        return ()
    # Our builders call every layer once, so the first node is the one in this model.
    names = []
    for tensor in nodes[0].input_tensors:
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            names.append(history.operation.name)
    return tuple(names)


def _shape(layer: Any) -> tuple:
    try:
        output = layer.output
    except (AttributeError, ValueError):
        return ()
    shape = getattr(output, "shape", None)
    return tuple(shape) if shape is not None else ()


def layer_table(model: Any) -> list[LayerRow]:
    """Rows for every layer of a functional keras.Model in graph order, input layer first."""
    rows = []
    for layer in model.layers:
        rows.append(
            LayerRow(
                name=layer.name,
                class_name=type(layer).__name__,
                output_shape=_shape(layer),
                params=int(layer.count_params()) if layer.built else 0,
                inbound=_inbound_names(layer),
            )
        )
    return rows
