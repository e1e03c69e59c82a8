"""What a model file does not say, guessed with the reason why: its preprocessing, its class names and
the dataset they belong to.

The caller's `Choices` come first, then what was remembered for the file, then the file's metadata,
then a guess from the model's shape (class count, input size). Imports without TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

from workbench.core.text import sanitize

from .applications import RecognisedBase
from .inspect import ModelFileInfo
from .loaded_model import (
    CLASS_NAMES_IN_FILE,
    GUESSED_PREPROCESSING,
    OUR_ARCHITECTURE,
    RECORDED_PREPROCESSING,
    REMEMBERED_PREPROCESSING,
    Choices,
    ModelLoadError,
)
from .preprocessing import (
    DEFAULT_FOREIGN,
    RAW_0_255,
    PreprocessingError,
    PreprocessingSpec,
    preprocessing_from,
    remembered_choices,
    remembered_preprocessing,
)

# Which dataset's class names a foreign model gets, by its number of outputs, when its input shape
# does not pick one (see dataset_for_model: a 28×28×1 model with 10 outputs gets MNIST's).
DATASET_BY_CLASS_COUNT = {10: "cifar10", 100: "cifar100", 20: "cifar100-coarse"}


def in_model_scaling_reason(scaling: str) -> str:
    return f"the model scales pixels itself ({scaling}), so it gets raw pixels 0..255"


def _image_shape(input_shape) -> tuple | None:
    """A model's (h, w, c) input with open sizes as None, or None when it is not an image input."""
    shape = tuple(input_shape) if input_shape is not None else ()
    return shape if len(shape) == 3 else None


def images_fit_input(image_shape: tuple, input_shape) -> bool:
    """A dataset's (h, w, c) images go into a model's input as they are (open sizes take any size)."""
    return _shape_fits(tuple(image_shape), _image_shape(input_shape))


def _shape_fits(image_shape: tuple, input_shape: tuple | None) -> bool:
    """A dataset's images go into this input as they are (open sizes take any size)."""
    if input_shape is None:
        return False
    return all(want is None or want == have for want, have in zip(input_shape, image_shape))


def dataset_for_model(num_classes: int, input_shape=None, prefer: str | None = None) -> str | None:
    """The registered dataset a model with `num_classes` outputs most likely belongs to, or None.

    Among the datasets with that many classes: `prefer` if it is one, else the first whose images fit
    the model's input as they are (28×28×1 -> MNIST, 32×32×3 -> CIFAR-10), else the first by class
    count (DATASET_BY_CLASS_COUNT, then registry order).
    """
    from workbench.core.datasets import DATASETS

    same = [k for k, v in DATASETS.items() if v.num_classes == num_classes and len(v.class_names) == num_classes]
    if prefer in same:
        return prefer
    first = DATASET_BY_CLASS_COUNT.get(num_classes)
    same.sort(key=lambda k: k != first)  # stable: the well-known set first, then registry order
    shape = _image_shape(input_shape)
    fitting = [k for k in same if _shape_fits(DATASETS[k].image_shape, shape)]
    return (fitting or same or [None])[0]


def default_class_names(num_classes: int, input_shape=None) -> tuple[tuple[str, ...], str | None]:
    """Class names of the registered dataset with this many classes whose images fit `input_shape`
    (see `dataset_for_model`), else "class 0".."class N-1"."""
    dataset_id = dataset_for_model(num_classes, input_shape)
    if dataset_id is not None:
        from workbench.core.datasets import DATASETS

        return tuple(DATASETS[dataset_id].class_names), dataset_id
    return tuple(f"class {i}" for i in range(num_classes)), None


def _assumed_because(num_classes: int, dataset_id: str, input_shape) -> str:
    """Why `dataset_id` was assumed for a model: its class count, and its input where that decided it."""
    from workbench.core.architectures import shape_text
    from workbench.core.datasets import DATASETS

    info = DATASETS[dataset_id]
    shape = _image_shape(input_shape)
    if _shape_fits(info.image_shape, shape) and sum(
            v.num_classes == num_classes for v in DATASETS.values()) > 1:
        return (f"the model has {num_classes} outputs and takes {shape_text(d or '?' for d in shape)} images "
                f"like {info.title.split(' (')[0]}")
    return f"the model has {num_classes} outputs"


def choose_preprocessing(info: ModelFileInfo, choices: Choices, scaling: str | None, ours: bool = False,
                         application: RecognisedBase | None = None) -> tuple[PreprocessingSpec, str, bool]:
    """(spec, reason, guessed): the caller's choice > remembered > our metadata > in-model scaling >
    a recognised keras.applications base's own preprocessing > x/255."""
    meta = info.metadata or {}
    remembered = remembered_preprocessing(info.path)
    try:
        if choices.preprocessing is not None:
            return preprocessing_from(choices.preprocessing), choices.preprocessing_reason, False
    except PreprocessingError as exc:
        raise ModelLoadError(str(exc)) from None
    if remembered is not None:
        return remembered, REMEMBERED_PREPROCESSING, False
    if meta.get("preprocessing"):
        return preprocessing_from(meta["preprocessing"]), RECORDED_PREPROCESSING, False  # checked by inspect
    if ours:
        return RAW_0_255, OUR_ARCHITECTURE, False
    if scaling:
        return RAW_0_255, in_model_scaling_reason(scaling), False
    if application is not None:
        return application.spec, application.reason, False
    return DEFAULT_FOREIGN, GUESSED_PREPROCESSING, True


def choose_class_names(info: ModelFileInfo, choices: Choices, num_classes: int,
                       input_shape=None) -> tuple[tuple[str, ...], str | None, str]:
    """(names, dataset id, source): the caller's > saved in the file > remembered > by class count."""
    name = Path(info.path).name
    meta = info.metadata or {}
    if choices.class_names is not None:
        names = tuple(sanitize(n) for n in choices.class_names)
        if len(names) != num_classes:
            raise ModelLoadError(f"{name} has {num_classes} outputs but {len(names)} class names were given "
                                 f"({choices.class_names_source}).")
        return names, choices.dataset_id, choices.class_names_source
    saved = meta.get("class_names")
    if saved and len(saved) == num_classes:
        return tuple(saved), choices.dataset_id or meta.get("dataset"), CLASS_NAMES_IN_FILE
    from workbench.core.datasets import DATASETS

    source = remembered_choices(info.path).get("class_names_source")
    if source in DATASETS and len(DATASETS[source].class_names) == num_classes:
        return (tuple(DATASETS[source].class_names), source,
                f"remembered for this file ({DATASETS[source].title})")
    names, dataset_id = default_class_names(num_classes, input_shape)
    mismatch = f" (the file's {len(saved)} saved names do not fit)" if saved else ""
    if dataset_id is not None:
        title = DATASETS[dataset_id].title
        why = _assumed_because(num_classes, dataset_id, input_shape)
        return names, dataset_id, f"assumed {title} because {why} and the file records no class names{mismatch}"
    return names, None, f"invented names (class 0 … class {num_classes - 1}): the file records no class names{mismatch}"
