"""TensorBoard Projector files, so `tensorboard --logdir DIR` shows the features in 3-D.

The format is the one TensorBoard's projector plugin reads (tensorboard/plugins/projector/
projector_plugin.py): DIR/projector_config.pbtxt (a text ProjectorConfig) naming, relative to DIR,
a TSV of vectors (one row per point, tab-separated floats, no header), a metadata TSV (a header row
when it has more than one column, then one row per point) and a sprite: one PNG holding every
thumbnail in a square grid, left to right then top to bottom, each `single_image_dim` pixels.
Every file is written atomically and the config last, so the config never names a file not yet there.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from workbench.core.atomic_write import write_bytes_atomic, write_text_atomic
from workbench.core.text import sanitize

CONFIG_NAME = "projector_config.pbtxt"  # tensorboard.plugins.projector.metadata.PROJECTOR_FILENAME
VECTORS_NAME = "vectors.tsv"
METADATA_NAME = "metadata.tsv"
SPRITE_NAME = "sprite.png"
TENSOR_NAME = "penultimate features"
MAX_SPRITE_SIDE = 8192  # the projector's largest sprite (WebGL texture) side, in pixels
METADATA_COLUMNS = ("index", "true", "predicted", "correct", "confidence")


class ProjectorError(ValueError):
    """Inputs that cannot become Projector files; one readable sentence."""


@dataclass(frozen=True)
class ProjectorFiles:
    folder: Path
    config: Path
    vectors: Path
    metadata: Path
    sprite: Path | None
    thumbnail: int  # the sprite's single_image_dim (pixels), 0 without a sprite


def _field(text: str) -> str:
    """A metadata cell: one line, no tabs (they separate columns), never empty."""
    return sanitize(text).replace("\t", " ").strip() or "?"


def _quoted(text: str) -> str:
    """A protobuf text-format string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sprite_thumbnail_size(n: int, image_size: int) -> int:
    """The side of one thumbnail in the sprite: the image's own, smaller when the grid would pass the
    projector's largest sprite."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, min(int(image_size), MAX_SPRITE_SIDE // cols))


def sprite_image(images: np.ndarray) -> tuple[np.ndarray, int]:
    """The sprite (uint8 H × W × 3) for N images and the side of each square thumbnail in it."""
    from workbench.core.images.fit import fit_image

    n, h, w = images.shape[:3]
    side = sprite_thumbnail_size(n, max(h, w))
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    sheet = np.zeros((rows * side, cols * side, 3), np.uint8)
    plain = images.ndim == 4 and images.shape[3] == 3 and (h, w) == (side, side)
    for i in range(n):
        tile = images[i] if plain else fit_image(images[i], (side, side, 3), fit="pad")[0]
        r, c = divmod(i, cols)
        sheet[r * side:(r + 1) * side, c * side:(c + 1) * side] = tile
    return sheet, side


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", optimize=False)
    return out.getvalue()


def vectors_tsv(features: np.ndarray) -> str:
    """One row per point, tab-separated, 6 significant digits (what the projector's float32 keeps anyway)."""
    out = io.StringIO()
    np.savetxt(out, features, fmt="%.6g", delimiter="\t")
    return out.getvalue()


def metadata_tsv(y_true: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]) -> str:
    names = [_field(n) for n in class_names]
    pred = probabilities.argmax(axis=1)
    conf = probabilities[np.arange(len(pred)), pred]
    lines = ["\t".join(METADATA_COLUMNS)]
    lines += [f"{i}\t{names[t]}\t{names[p]}\t{'yes' if t == p else 'no'}\t{c:.3f}"
              for i, (t, p, c) in enumerate(zip(y_true.tolist(), pred.tolist(), conf.tolist()))]
    return "\n".join(lines) + "\n"


def config_pbtxt(thumbnail: int, tensor_name: str = TENSOR_NAME, shape: tuple[int, int] | None = None) -> str:
    lines = ["embeddings {", f"  tensor_name: {_quoted(tensor_name)}"]
    if shape is not None:
        lines += [f"  tensor_shape: {int(shape[0])}", f"  tensor_shape: {int(shape[1])}"]
    lines += [f"  tensor_path: {_quoted(VECTORS_NAME)}", f"  metadata_path: {_quoted(METADATA_NAME)}"]
    if thumbnail:
        lines += ["  sprite {", f"    image_path: {_quoted(SPRITE_NAME)}",
                  f"    single_image_dim: {thumbnail}", f"    single_image_dim: {thumbnail}", "  }"]
    return "\n".join(lines + ["}"]) + "\n"


def check_inputs(features: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray,
                 class_names: Sequence[str], images: np.ndarray | None) -> None:
    n = len(features)
    if np.ndim(features) != 2 or n == 0:
        raise ProjectorError(f"Features must be a table with at least one row; got shape {np.shape(features)}.")
    if len(y_true) != n or len(probabilities) != n or (images is not None and len(images) != n):
        raise ProjectorError(f"The features have {n} rows but there are {len(y_true)} labels, "
                             f"{len(probabilities)} predictions"
                             + (f" and {len(images)} images" if images is not None else "") + ".")
    if np.shape(probabilities)[1] != len(class_names):
        raise ProjectorError(f"The predictions have {np.shape(probabilities)[1]} classes but "
                             f"{len(class_names)} class names were given.")
    if len(y_true) and (int(np.min(y_true)) < 0 or int(np.max(y_true)) >= len(class_names)):
        raise ProjectorError(f"The labels must run from 0 to {len(class_names) - 1}.")


def write_projector(folder: str | os.PathLike, features: np.ndarray, y_true: np.ndarray,
                    probabilities: np.ndarray, class_names: Sequence[str],
                    images: np.ndarray | None = None, tensor_name: str = TENSOR_NAME) -> ProjectorFiles:
    """Writes the vectors, the metadata (true class, predicted class, correct, confidence), the sprite
    (when `images`, uint8 N × H × W × C, are given) and then the config into `folder` (made if missing).
    Raises ProjectorError (a sentence) before writing anything when the inputs do not match."""
    features = np.asarray(features, dtype=np.float32)
    y_true = np.asarray(y_true).reshape(-1).astype(np.int64)
    probabilities = np.asarray(probabilities)
    check_inputs(features, y_true, probabilities, class_names, images)
    folder = Path(folder)
    vectors = vectors_tsv(features)  # everything is made in memory first: a failure writes nothing
    metadata = metadata_tsv(y_true, probabilities, class_names)
    sprite_png, thumbnail = None, 0
    if images is not None:
        sheet, thumbnail = sprite_image(np.asarray(images))
        sprite_png = _png(sheet)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / VECTORS_NAME, vectors)
    write_text_atomic(folder / METADATA_NAME, metadata)
    if sprite_png is not None:
        write_bytes_atomic(folder / SPRITE_NAME, sprite_png)
    write_text_atomic(folder / CONFIG_NAME, config_pbtxt(thumbnail, tensor_name, features.shape))
    return ProjectorFiles(folder, folder / CONFIG_NAME, folder / VECTORS_NAME, folder / METADATA_NAME,
                          folder / SPRITE_NAME if sprite_png is not None else None, thumbnail)
