"""TensorBoard Projector files, read back with the installed tensorboard's own projector plugin code."""

import os

import numpy as np
import pytest
from google.protobuf import text_format
from PIL import Image

from workbench.core.embedding.projector import (
    CONFIG_NAME,
    ProjectorError,
    sprite_thumbnail_size,
    write_projector,
)


def _inputs(n=23, d=7, c=3, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, d)).astype(np.float32)
    y = rng.integers(0, c, n)
    probs = rng.dirichlet(np.ones(c), n).astype(np.float32)
    images = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    return features, y, probs, images


def test_the_projector_plugin_reads_what_is_written(tmp_path):
    from tensorboard.plugins.projector import metadata, projector_config_pb2
    from tensorboard.plugins.projector.projector_plugin import _read_tensor_tsv_file, _rel_to_abs_asset_path

    features, y, probs, images = _inputs()
    names = ["cat", "dog\twith tab", "bird"]
    files = write_projector(tmp_path / "out", features, y, probs, names, images)
    config_path = tmp_path / "out" / metadata.PROJECTOR_FILENAME
    assert files.config == config_path and CONFIG_NAME == metadata.PROJECTOR_FILENAME
    config = text_format.Parse(config_path.read_text(), projector_config_pb2.ProjectorConfig())
    (emb,) = config.embeddings
    vectors = _read_tensor_tsv_file(_rel_to_abs_asset_path(emb.tensor_path, str(config_path)))
    assert vectors.shape == (23, 7) and list(emb.tensor_shape) == [23, 7]
    np.testing.assert_allclose(vectors, features, rtol=1e-5, atol=1e-6)
    rows = open(_rel_to_abs_asset_path(emb.metadata_path, str(config_path)), encoding="utf-8").read().splitlines()
    header, body = rows[0].split("\t"), [r.split("\t") for r in rows[1:]]
    assert header == ["index", "true", "predicted", "correct", "confidence"] and len(body) == 23
    shown = [n.replace("\t", " ") for n in names]
    pred = probs.argmax(axis=1)
    for i, row in enumerate(body):
        assert row == [str(i), shown[y[i]], shown[pred[i]], "yes" if y[i] == pred[i] else "no",
                       f"{probs[i, pred[i]]:.3f}"]
    sprite = np.asarray(Image.open(_rel_to_abs_asset_path(emb.sprite.image_path, str(config_path))))
    assert list(emb.sprite.single_image_dim) == [8, 8]
    cols = 5  # ceil(sqrt(23))
    assert sprite.shape == (5 * 8, cols * 8, 3)
    r, c = divmod(17, cols)  # row-major tiles
    np.testing.assert_array_equal(sprite[r * 8:(r + 1) * 8, c * 8:(c + 1) * 8], images[17])
    assert sorted(os.listdir(tmp_path / "out")) == ["metadata.tsv", "projector_config.pbtxt", "sprite.png",
                                                    "vectors.tsv"]


def test_mismatched_inputs_write_nothing(tmp_path):
    features, y, probs, images = _inputs()
    out = tmp_path / "out"
    with pytest.raises(ProjectorError, match="23 rows but there are 22 labels"):
        write_projector(out, features, y[:-1], probs, ["a", "b", "c"], images)
    with pytest.raises(ProjectorError, match="3 classes but 2 class names"):
        write_projector(out, features, y, probs, ["a", "b"], images)
    assert not out.exists()


def test_large_sets_get_smaller_thumbnails():
    assert sprite_thumbnail_size(10_000, 32) == 32  # 100 × 32 = 3,200 pixels wide
    assert sprite_thumbnail_size(100_000, 32) == 8192 // 317
    assert sprite_thumbnail_size(4, 300) == 300


def test_grayscale_images_become_rgb_tiles(tmp_path):
    features, y, probs, _ = _inputs(n=4)
    gray = np.full((4, 8, 8, 1), 200, np.uint8)
    files = write_projector(tmp_path, features, y, probs, ["a", "b", "c"], gray)
    sprite = np.asarray(Image.open(files.sprite))
    assert sprite.shape == (16, 16, 3) and (sprite == 200).all()
