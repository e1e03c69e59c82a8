"""The experiment form's words: choice labels, the dataset and architecture lines, the device guess."""

from __future__ import annotations

import os

from workbench.core.architectures import input_problem, shape_text
from workbench.core.datasets import get_info

# Shorter names for the well-known sets; every other registered dataset is listed by its title.
_DATASET_LABELS = {
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100 (fine, 100 classes)",
    "cifar100-coarse": "CIFAR-100 (coarse, 20 classes)",
    "builtin": "Built-in offline set (shapes)",
}
OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD (Nesterov momentum 0.9)", "rmsprop": "RMSprop", "adamw": "AdamW"}
SCHEDULE_LABELS = {
    "constant": "constant",
    "cosine": "cosine decay",
    "step": "step decay",
    "plateau": "reduce on plateau",
    "one_cycle": "one-cycle (up, then down to 0)",
    "warmup_cosine": "warm-up + cosine to 0",
    "triangle": "triangle (airbench: up, then down to 7 %)",
}
FORMAT_LABELS = {"h5": "HDF5 (.h5)", "keras": "Keras v3 (.keras)"}


def image_size_text(shape: tuple[int, int, int]) -> str:
    """(28, 28, 1) -> "28×28 grayscale"; (32, 32, 3) -> "32×32 RGB"."""
    height, width, channels = shape
    colour = {1: "grayscale", 3: "RGB"}.get(channels, f"{channels} channels")
    return f"{width}×{height} {colour}"


def dataset_label(dataset_id: str) -> str:
    """The dataset chooser's entry: its name and image size (a network is built for that size)."""
    info = get_info(dataset_id)
    return f"{_DATASET_LABELS.get(dataset_id, info.title)} · {image_size_text(info.image_shape)}"


def classes_text(info) -> str:
    """The line under the dataset chooser (a DatasetInfo): classes, image size, split sizes."""
    return (f"{info.num_classes} classes · {image_size_text(info.image_shape)} images · "
            f"{info.train_size:,} train / {info.test_size:,} test")


def problem_text(arch: str, dataset_id: str) -> str:
    """The core's sentence for a network that cannot take this dataset's images, in window terms ("" if it can)."""
    info = get_info(dataset_id)
    shape = tuple(info.image_shape)
    problem = input_problem(arch, shape)
    if not problem:
        return ""
    return f"{problem.rstrip('.')}: {info.title} has {shape_text(shape)} images, so choose another architecture."


def cpu_device_text() -> str:
    """A guess made without TensorFlow; TrainingStarted.device replaces it once a run starts."""
    cpu = f"CPU ({os.cpu_count() or 1} threads)"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible not in ("", "-1") and os.path.exists("/proc/driver/nvidia/version"):
        return f"GPU likely (NVIDIA driver found) · {cpu}"
    return cpu
