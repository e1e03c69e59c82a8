"""Any Keras model's layers as plain rows for the Model tab's graph: every layer at every depth, nested
models (a keras.applications base inside a Sequential) as group rows their layers belong to.

Found by one symbolic run of the model (graph's `_structure`), so third-party and legacy models work as
ours do; the rows cross threads as plain data (the GUI never touches the model)."""

from __future__ import annotations

from dataclasses import dataclass

from . import graph

INPUT_ROW = "input"


@dataclass(frozen=True)
class TreeRow:
    """A layer, or a nested model (`group`): `name` is its path ("outer/inner"), `parent` the path of the
    nested model it sits in ("" at the top), `inbound` the paths of the layers feeding it."""

    name: str
    class_name: str
    output_shape: tuple
    params: int
    inbound: tuple[str, ...]
    parent: str = ""
    group: bool = False
    size: int = 0  # for a group: how many layers it holds, at every depth


def _op_at(model, path: str):
    op = model
    for part in path.split("/"):
        op = op.get_layer(part.split("#", 1)[0])
    return op


def _params(op) -> int:
    try:
        return int(op.count_params()) if op.built else 0
    except (ValueError, AttributeError):
        return 0


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def layer_tree(model) -> tuple[TreeRow, ...]:
    """Rows in call order, each nested model's group row before its first layer. LayerNotFound (one
    sentence) for a model without layers, e.g. an exported artefact."""
    structure = graph._structure(model)
    shape = tuple(graph._input_shape(model))
    rows: list[TreeRow] = [TreeRow(INPUT_ROW, "InputLayer", shape, 0, ())]
    groups = set(structure.aliases)
    leaves_in: dict[str, int] = {}
    for info in structure.infos:
        parent = _parent(info.name)
        while parent:
            leaves_in[parent] = leaves_in.get(parent, 0) + 1
            parent = _parent(parent)
    shapes = {info.name: info.output_shape for info in structure.infos}
    placed: set[str] = set()
    for info in structure.infos:
        # Open every enclosing group not yet placed, outermost first.
        chain, parent = [], _parent(info.name)
        while parent and parent not in placed:
            chain.append(parent)
            parent = _parent(parent)
        for group in reversed(chain):
            placed.add(group)
            if group not in groups:
                continue
            op = _op_at(model, group)
            rows.append(TreeRow(group, type(op).__name__, shapes.get(structure.aliases[group], ()), _params(op),
                                (), _parent(group), True, leaves_in.get(group, 0)))
        inbound = tuple(p if p is not None else INPUT_ROW for p in structure.inbound.get(info.name, ()))
        try:
            params = _params(_op_at(model, info.name))
        except ValueError:  # a name Keras cannot look up (repeated call): counted once, at its first call
            params = 0
        rows.append(TreeRow(info.name, info.class_name, info.output_shape, params, inbound or (INPUT_ROW,),
                            _parent(info.name)))
    return tuple(rows)
