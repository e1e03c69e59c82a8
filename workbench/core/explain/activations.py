"""What each layer of a model responds to, for one image: feature maps, per-layer statistics, and the first
convolution's filters as pictures (the DIGITS "layers" view).

Every spatial layer's output is reached through `graph.tap` (the one way to reach a layer of any model,
nested bases included) in one forward pass. Plain data out (numpy arrays, strings): safe to hand to a GUI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import graph

MAX_CHANNELS = 64  # feature maps kept per layer, the most active first
MAX_BYTES = 48 * 2**20  # all kept maps together (float32); deeper layers keep fewer channels past it
# Layers that only move or scale pixels hold no units: a dead-unit share there would be a false claim.
NO_UNITS = frozenset({"Rescaling", "Normalization", "Resizing", "CenterCrop", "ZeroPadding2D", "Cropping2D",
                      "InputLayer"})


@dataclass(frozen=True)
class LayerActivations:
    """One spatial layer's output for one image.

    ``maps``: K x h x w float32, the K (≤ MAX_CHANNELS) channels with the largest mean activation,
    largest first; ``channels``: their indices in the layer's output; ``channel_means``: their means.
    ``mean_activation``: the mean over every position and channel of the layer's output.
    ``dead_share``: the share of the layer's channels that are ≤ 0 at every position *for this image* —
    the ReLU units that pass nothing on for it. None where the output has negative values (it does not
    come out of a ReLU, so "dead ReLU unit" has no meaning there) and for layers that only scale or move
    pixels (NO_UNITS).
    """

    name: str
    class_name: str
    output_shape: tuple  # (h, w, channels)
    maps: np.ndarray = field(repr=False)
    channels: np.ndarray = field(repr=False)
    channel_means: np.ndarray = field(repr=False)
    mean_activation: float
    dead_share: float | None
    dead_channels: int

    @property
    def total_channels(self) -> int:
        return int(self.output_shape[-1])


@dataclass(frozen=True)
class ImageLayers:
    """Every spatial layer's activations for one image, and the first convolution's filters.

    ``filters``: F x kh x kw x 3 uint8 (or x 1 for one-channel input), each filter scaled on its own to
    0..255 for display (0 → the filter's smallest weight, 255 → its largest); None when the model has no
    convolution on its input. ``filters_layer`` names the layer they came from.
    """

    image: np.ndarray = field(repr=False)  # uint8 h x w x c, as fed to the model
    layers: tuple[LayerActivations, ...]
    probabilities: np.ndarray = field(repr=False)  # the model's answer for the image
    filters: np.ndarray | None = field(repr=False, default=None)
    filters_layer: str = ""
    notes: tuple[str, ...] = ()

    def layer(self, name: str) -> LayerActivations:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)


def layer_activations(name: str, class_name: str, act: np.ndarray, keep: int = MAX_CHANNELS) -> LayerActivations:
    """Statistics and the ``keep`` most active channels of one layer's output ``act`` (h x w x c)."""
    act = np.asarray(act, dtype=np.float32)
    if act.ndim != 3:
        raise ValueError(f"{name}: a spatial output is h×w×channels, not {act.shape}")
    per_channel = act.reshape(-1, act.shape[-1])
    means = per_channel.mean(axis=0)
    order = np.argsort(-means, kind="stable")[: max(0, keep)]
    if class_name in NO_UNITS or np.any(per_channel < 0):
        dead_share, dead = None, 0
    else:
        dead = int(np.sum(per_channel.max(axis=0) <= 0))
        dead_share = dead / act.shape[-1]
    maps = np.ascontiguousarray(np.moveaxis(act[..., order], -1, 0))
    return LayerActivations(name, class_name, tuple(int(d) for d in act.shape), maps, order.astype(np.int64),
                            means[order].astype(np.float32), float(act.mean()), dead_share, dead)


def image_layers(loaded, image: np.ndarray, *, max_channels: int = MAX_CHANNELS,
                 max_bytes: int = MAX_BYTES, cancel=None) -> ImageLayers:
    """Every spatial layer of ``loaded`` (a LoadedModel) for one uint8 image (h x w x c, the model's
    input size), the layers in the model's order. Raises ValueError with one sentence for a model
    without spatial layers."""
    from workbench.core.modelio.artefacts import not_available

    refusal = not_available(loaded, "The layers view")
    if refusal:
        raise ValueError(refusal)
    model = loaded.model
    x_uint8 = loaded.prepare(image)
    if len(x_uint8) != 1:
        raise ValueError("The layers view takes one image.")
    infos = [info for info in graph.layers(model) if info.spatial]
    if not infos:
        raise ValueError(f"{loaded.name} has no layer with spatial extent (height × width), so there are no "
                         "feature maps to show.")
    fn = _tap_for(loaded, tuple(info.name for info in infos))
    acts, output = fn(loaded.preprocessing.apply(x_uint8))
    if cancel is not None and cancel():
        raise InterruptedError("cancelled")
    probabilities = loaded._finish(np.asarray(output, dtype=np.float32))[0]
    budget = int(max_bytes)
    layers = []
    for info, act in zip(infos, acts):
        a = np.asarray(act, dtype=np.float32)[0]
        per_map = max(1, a.shape[0] * a.shape[1] * 4)
        keep = int(min(max_channels, max(1, budget // per_map)))  # at least one map per layer
        layer = layer_activations(info.name, info.class_name, a, keep)
        budget = max(0, budget - layer.maps.nbytes)
        layers.append(layer)
    filters, filters_layer = first_filters(model)
    notes = () if filters is not None else ("This model has no convolution on its input, so there are no "
                                            "first-layer filters to show.",)
    return ImageLayers(np.asarray(x_uint8[0]), tuple(layers), probabilities, filters, filters_layer, notes)


def _tap_for(loaded, names: tuple[str, ...]):
    """One tap function per model and layer list, kept on the LoadedModel (tracing it costs seconds)."""
    key = ("explain-tap", names)
    fn = loaded._cache.get(key)
    if fn is None:
        fn = graph.tap(loaded.model, list(names))
        loaded._cache[key] = fn
    return fn


def _layer_at(model, path: str):
    """The layer object at a graph path ("outer/inner", "#n" for a repeated call), to read its weights."""
    layer = model
    for part in path.split("/"):
        layer = layer.get_layer(part.split("#", 1)[0])
    return layer


def first_filters(model) -> tuple[np.ndarray | None, str]:
    """The first 2-D convolution's kernels as F x kh x kw x C uint8 pictures (C = 3 or 1), each scaled on
    its own to 0..255, and the convolution's path; (None, "") when the model has none, or when its input
    has neither 1 nor 3 channels (no picture to draw)."""
    info = next((i for i in graph.layers(model) if i.class_name in ("Conv2D", "Convolution2D")), None)
    if info is None:
        return None, ""
    kernel = getattr(_layer_at(model, info.name), "kernel", None)
    if kernel is None:
        return None, ""
    k = np.asarray(kernel, dtype=np.float32)  # kh x kw x in x out
    if k.ndim != 4 or k.shape[2] not in (1, 3):
        return None, ""
    f = np.moveaxis(k, -1, 0)  # out x kh x kw x in
    lo = f.min(axis=(1, 2, 3), keepdims=True)
    hi = f.max(axis=(1, 2, 3), keepdims=True)
    scaled = (f - lo) / np.maximum(hi - lo, 1e-12)
    return np.round(scaled * 255).astype(np.uint8), info.name
