"""The folder-parity benchmark's core on a tiny generated CIFAR (pickles + the same images as JPEG files).

One pickle image is nudged so that no file decodes to it exactly: the benchmark must still find its
file (nearest of its class), count it as the one differing image, and train both runs.
"""

from __future__ import annotations

import io
import pickle

import numpy as np
from PIL import Image

from benchmarks.bench_folder_parity import run_parity

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
PER_CLASS = 5  # 50 training images: 5 batches of 10


def _jpeg(rng: np.random.Generator, label: int) -> bytes:
    # Smooth colour blobs, a different tint per class, so JPEG keeps them distinct.
    base = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    base[..., label % 3] = 40 + 20 * label
    img = Image.fromarray(base).resize((32, 32), Image.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=75)
    return buf.getvalue()


def _write_batch(path, images: np.ndarray, labels) -> None:
    planar = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    with open(path, "wb") as f:
        pickle.dump({b"data": np.ascontiguousarray(planar), b"labels": list(labels)}, f, protocol=2)


def _fixture(tmp_path):
    rng = np.random.default_rng(7)
    tree = tmp_path / "jpeg" / "train"
    images, labels = [], []
    for label, name in enumerate(CLASSES):
        (tree / name).mkdir(parents=True)
        for k in range(PER_CLASS + 2):  # two extra files per class that the pickles do not hold
            data = _jpeg(rng, label)
            (tree / name / f"{k:04d}.jpg").write_bytes(data)
            if k < PER_CLASS:
                images.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
                labels.append(label)
    order = rng.permutation(len(images))  # the pickles hold a shuffle, like the real ones
    x, y = np.stack(images)[order], np.array(labels)[order]
    x[3, 0, 0, 0] ^= 1  # no file decodes to this image exactly any more
    pickles = tmp_path / "cifar-10-batches-py"
    pickles.mkdir()
    for i in range(5):
        _write_batch(pickles / f"data_batch_{i + 1}", x[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10])
    _write_batch(pickles / "test_batch", x[:20], y[:20])
    with open(pickles / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [c.encode() for c in CLASSES]}, f, protocol=2)
    return pickles, tree


def test_parity_core_matches_files_and_trains_both(tmp_path):
    pickles, tree = _fixture(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    r = run_parity(pickles, tree, work, epochs=1, batch=16, noise_seeds=0, with_tf=False)
    assert r["pickle_images"] == 50 and r["jpeg_files_scanned"] == 70
    assert r["exact_pixel_matches"] == 49 and r["unmatched"] == 0
    assert r["nearest_match_max_abs_diff"] == 1
    assert r["labels_equal"] is True
    assert (r["images_differing"], r["pixel_values_differing"], r["max_abs_pixel_diff"]) == (1, 1, 1)
    assert r["arrays_identical"] is False
    assert r["recipe"]["val_images"] == 10 and r["recipe"]["train_images"] == 40
    for run in ("pickles", "folder"):
        assert 0.0 <= r[run]["val_acc"] <= 1.0 and 0.0 <= r[run]["test_acc"] <= 1.0
    assert r["val_diff_pt"] == round(100 * (r["folder"]["val_acc"] - r["pickles"]["val_acc"]), 2)
    assert len(list((work / "matched").rglob("*.jpg"))) == 50
