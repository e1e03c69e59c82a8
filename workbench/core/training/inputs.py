"""Whether a run's network can take its dataset's images, and how those images are augmented;
answered from the registry and layer arithmetic alone (no data, no TensorFlow)."""

from __future__ import annotations

from typing import Any


def dataset_info(dataset_id: str) -> Any:
    """The DatasetInfo of `dataset_id` (DatasetError naming the known ones for an unknown id)."""
    from workbench.core.datasets import get_info

    return get_info(dataset_id)


def input_problem_for(config: Any) -> str | None:
    """One sentence saying why `config.arch` cannot be built for `config.dataset`'s images, or None."""
    from workbench.core.architectures import input_problem, shape_text

    info = dataset_info(config.dataset)
    problem = input_problem(config.arch, info.image_shape)
    if problem is None:
        return None
    return f"{problem.rstrip('.')}: {info.title} has {shape_text(info.image_shape)} images, so choose another network."


def augmentation_text(info: Any, config: Any) -> str:
    """What augmentation a run of `config` on `info` does, in words, for the run log."""
    cut = f", cutout {config.cutout} px" if getattr(config, "cutout", 0) else ""
    if not config.augment:
        return "augmentation: " + cut[2:] if cut else "no augmentation"
    translate, padding = getattr(config, "translate", 4), getattr(config, "padding", "zero")
    kind = "reflection " if padding == "reflect" else ""
    shift = f"random crop ({translate}-pixel {kind}padding)" if translate else "no crop"
    if info.mirror_safe:
        flip = "alternating horizontal flip" if getattr(config, "flip", "random") == "alternate" else "horizontal flip"
        return f"augmentation: {shift} and {flip}{cut}"
    return (f"augmentation: {shift} only{cut} — no flips, because mirrored images of "
            f"{info.title} change class")
