"""How a model expects its pixels, and a small per-file memory of the user's choice.

A `PreprocessingSpec` turns uint8 pixels (0..255) into what a model was trained on:
- "raw_0_255": float pixels as they are (our own models scale inside the network);
- "scale_0_1": x / 255 (the usual choice for foreign models, and the default);
- "scale_-1_1": x / 127.5 - 1;
- "mean_std": (x / 255 - mean) / std with per-channel or scalar mean/std given on the 0..1 scale.
  A z-score is scale-free, so a scalar mean/std computed on raw 0..255 pixels divided by 255 is the
  same transform (for example CIFAR-100's 121.936 / 68.389 becomes 0.47818 / 0.26819).
`bgr` reverses the channels first (RGB -> BGR), as keras.applications' "caffe" mode does: with it, mean_std
with the ImageNet BGR mean and std 1/255 is exactly `x[..., ::-1] - mean` (see IMAGENET_CAFFE).

The choice is remembered per model file in `workbench_home()/model_prefs.json`, keyed by absolute
path, size and modification time, so a replaced file does not inherit an old choice.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.core.atomic_write import write_json_atomic
from workbench.core.text import sanitize

KINDS = ("raw_0_255", "scale_0_1", "scale_-1_1", "mean_std")

# Per-channel statistics of the training sets on the 0..1 scale (population std).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)
# One number over all pixels and channels (the Keras "cifar-vgg" recipe: 120.707/64.15, 121.936/68.389).
CIFAR10_SCALAR = (120.707 / 255.0, 64.15 / 255.0)
CIFAR100_SCALAR = (121.936 / 255.0, 68.389 / 255.0)


class PreprocessingError(ValueError):
    """A preprocessing choice that cannot be used; the message is one readable sentence."""


@dataclass(frozen=True)
class PreprocessingSpec:
    kind: str = "scale_0_1"
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    label: str = ""
    bgr: bool = False  # channels reversed before the affine step (keras.applications' "caffe" mode)

    def __post_init__(self):
        if not isinstance(self.bgr, bool):
            raise PreprocessingError("The preprocessing's bgr setting must be true or false.")
        if not isinstance(self.kind, str) or self.kind not in KINDS:
            raise PreprocessingError(
                f"Unknown preprocessing {sanitize(repr(self.kind), 60)}; choose one of {', '.join(KINDS)}."
            )
        object.__setattr__(self, "mean", _finite_values(self.mean, "mean"))
        object.__setattr__(self, "std", _finite_values(self.std, "standard deviation"))
        if self.kind == "mean_std":
            if len(self.mean) not in (1, 3) or len(self.mean) != len(self.std):
                raise PreprocessingError(
                    "Mean/std preprocessing needs one scalar or three per-channel values for both mean and std."
                )
            if any(s <= 0 for s in self.std):
                raise PreprocessingError("Every standard deviation must be greater than zero.")

    def describe(self) -> str:
        if self.label:
            return self.label
        if self.kind == "raw_0_255":
            return "raw pixels 0..255"
        if self.kind == "scale_0_1":
            return "x / 255"
        if self.kind == "scale_-1_1":
            return "x / 127.5 - 1"
        values = ", ".join(f"{m:.4f}/{s:.4f}" for m, s in zip(self.mean, self.std))
        return f"(x/255 - mean) / std with mean/std {values}" + (", channels as BGR" if self.bgr else "")

    def apply(self, images: np.ndarray) -> np.ndarray:
        """uint8 (or float 0..255) N x H x W x C -> float32 in the model's expected range."""
        x = np.asarray(images, dtype=np.float32)
        if self.bgr:
            x = self._reversed(x)
        if self.kind == "raw_0_255":
            return x
        if self.kind == "scale_0_1":
            return x / np.float32(255.0)
        if self.kind == "scale_-1_1":
            return x / np.float32(127.5) - np.float32(1.0)
        mean, std = self._stats_for(x.shape[-1])
        return (x / np.float32(255.0) - mean) / std

    def transform(self, x):
        """`apply` for a float tensor of any array library (a tf graph's too): channel order, then `affine`."""
        if self.bgr:
            x = self._reversed(x)
        scale, offset = self.affine(int(x.shape[-1]))
        return x * scale + offset

    def _reversed(self, x):
        if int(x.shape[-1]) != 3:
            raise PreprocessingError(f"BGR preprocessing needs 3-channel images, not {int(x.shape[-1])} channels.")
        return x[..., ::-1]

    def affine(self, channels: int) -> tuple[np.ndarray, np.ndarray]:
        """(scale, offset) per channel so that apply(x) == x' * scale + offset, where x' is x with its channels
        reversed when `bgr` (so callers fusing it into a graph use `transform`, which does both)."""
        ones = np.ones(channels, np.float32)
        if self.kind == "raw_0_255":
            return ones, np.zeros(channels, np.float32)
        if self.kind == "scale_0_1":
            return ones / 255.0, np.zeros(channels, np.float32)
        if self.kind == "scale_-1_1":
            return ones / 127.5, -ones
        mean, std = self._stats_for(channels)
        return (1.0 / (255.0 * std)).astype(np.float32), (-mean / std).astype(np.float32)

    def _stats_for(self, channels: int) -> tuple[np.ndarray, np.ndarray]:
        mean = np.asarray(self.mean, np.float32)
        std = np.asarray(self.std, np.float32)
        if mean.size == 1:
            return np.full(channels, mean[0], np.float32), np.full(channels, std[0], np.float32)
        if mean.size != channels:
            raise PreprocessingError(
                f"The mean/std preprocessing has {mean.size} channels but the images have {channels}."
            )
        return mean, std

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "mean": list(self.mean), "std": list(self.std), "label": self.label}
        if self.bgr:
            out["bgr"] = True  # written only when set, so older readers keep reading RGB specs
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "PreprocessingSpec":
        return cls(
            kind=data.get("kind", "scale_0_1"),
            mean=data.get("mean") or (),
            std=data.get("std") or (),
            label=_label(data.get("label")),
            bgr=data.get("bgr", False),
        )


def _finite_values(values, what: str) -> tuple[float, ...]:
    """A tuple of finite floats; a number, text, NaN or infinity becomes one sentence (never a TypeError)."""
    if not isinstance(values, (list, tuple)) or len(values) > 4:
        raise PreprocessingError(f"The preprocessing {what} must be a list of one or three numbers.")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise PreprocessingError(f"The preprocessing {what} must be finite numbers, not {sanitize(repr(v), 40)}.")
        out.append(float(v))
    return tuple(out)


def _label(value) -> str:
    return sanitize(value, 80) if isinstance(value, str) else ""


RAW_0_255 = PreprocessingSpec("raw_0_255")
SCALE_0_1 = PreprocessingSpec("scale_0_1")
SCALE_MINUS1_1 = PreprocessingSpec("scale_-1_1")

# keras.applications' preprocess_input modes (imagenet_utils): "tf" is SCALE_MINUS1_1; "caffe" reverses RGB to
# BGR and subtracts the ImageNet mean (BGR order) without scaling; "torch" is x/255 then ImageNet mean/std.
IMAGENET_CAFFE = PreprocessingSpec("mean_std", (103.939 / 255.0, 116.779 / 255.0, 123.68 / 255.0),
                                   (1 / 255.0,) * 3, "ImageNet 'caffe' (BGR, x − mean)",
                                   bgr=True)
IMAGENET_TORCH = PreprocessingSpec("mean_std", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225),
                                   "ImageNet 'torch' mean/std")


def preprocessing_from(value) -> PreprocessingSpec:
    """Accepts a spec, a preset name or a kind name ("scale_0_1"), or a dict from `to_dict`."""
    if isinstance(value, PreprocessingSpec):
        return value
    if isinstance(value, dict):
        return PreprocessingSpec.from_dict(value)
    if isinstance(value, str):
        if value in PRESETS:
            return PRESETS[value]
        if value == "mean_std":
            return PRESETS["cifar10_mean_std"]
        raise PreprocessingError(
            f"Unknown preprocessing {sanitize(repr(value), 60)}; choose one of {', '.join(PRESETS)}."
        )
    raise PreprocessingError(f"A preprocessing choice must be a name or a PreprocessingSpec, not {type(value).__name__}.")


# ---- per-file memory -------------------------------------------------------------------------

def _prefs_path() -> Path:
    from workbench.paths import workbench_home

    return workbench_home() / "model_prefs.json"


def _file_key(model_path) -> str:
    p = Path(model_path).resolve()
    st = p.stat()
    return f"{p}|{st.st_size}|{int(st.st_mtime_ns)}"


def _read_prefs() -> dict:
    try:
        data = json.loads(_prefs_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a missing or damaged store only means nothing is remembered
    return data if isinstance(data, dict) else {}


def _write_prefs(data: dict) -> None:
    target = _prefs_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(target, data, fsync=False, indent=1)  # a crash never leaves a half-written store


def remembered_choices(model_path) -> dict:
    """What the user chose earlier for this exact file (same path, size and mtime), or {}."""
    try:
        key = _file_key(model_path)
    except OSError:
        return {}
    entry = _read_prefs().get(key)
    return entry if isinstance(entry, dict) else {}


def remembered_preprocessing(model_path) -> PreprocessingSpec | None:
    entry = remembered_choices(model_path).get("preprocessing")
    if not isinstance(entry, dict):
        return None
    try:
        return PreprocessingSpec.from_dict(entry)
    except PreprocessingError:
        return None


def remember_choices(model_path, *, preprocessing: PreprocessingSpec | None = None,
                     class_names_source: str | None = None) -> None:
    """Stores the preprocessing (and optionally which dataset's class names) chosen for a model file."""
    key = _file_key(model_path)
    data = _read_prefs()
    entry = dict(data.get(key) or {})
    if preprocessing is not None:
        entry["preprocessing"] = preprocessing_from(preprocessing).to_dict()
    if class_names_source is not None:
        entry["class_names_source"] = class_names_source
    data[key] = entry
    _write_prefs(data)


def remember_preprocessing(model_path, spec) -> None:
    remember_choices(model_path, preprocessing=preprocessing_from(spec))

# Named choices a GUI or CLI can list; the default for a foreign model is "scale_0_1".
PRESETS: dict[str, PreprocessingSpec] = {
    "raw_0_255": RAW_0_255,
    "scale_0_1": SCALE_0_1,
    "scale_-1_1": SCALE_MINUS1_1,
    "cifar10_mean_std": PreprocessingSpec("mean_std", CIFAR10_MEAN, CIFAR10_STD, "CIFAR-10 per-channel mean/std"),
    "cifar100_mean_std": PreprocessingSpec("mean_std", CIFAR100_MEAN, CIFAR100_STD, "CIFAR-100 per-channel mean/std"),
    "cifar10_zscore": PreprocessingSpec("mean_std", CIFAR10_SCALAR[:1], CIFAR10_SCALAR[1:], "CIFAR-10 scalar z-score"),
    "cifar100_zscore": PreprocessingSpec(
        "mean_std", CIFAR100_SCALAR[:1], CIFAR100_SCALAR[1:], "CIFAR-100 scalar z-score"
    ),
    "imagenet_caffe": IMAGENET_CAFFE,
    "imagenet_torch": IMAGENET_TORCH,
}
DEFAULT_FOREIGN = SCALE_0_1

