"""Hostile or broken model files end in one sentence, within bounded memory and time."""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
import zipfile

import h5py
import numpy as np
import pytest

from workbench.core.modelio.inspect import inspect_model_file
from workbench.core.modelio.limits import MAX_CONFIG_BYTES, MAX_INPUT_PIXELS, MAX_METADATA_BYTES
from workbench.core.modelio.metadata import METADATA_ATTR, build_metadata, read_metadata
from workbench.core.modelio.open import load_any_model, open_model


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _tiny(size=12, classes=10):
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((size, size, 3)), keras.layers.Conv2D(2, 3),
                             keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(classes, activation="softmax")])


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_huge_declared_input_is_refused_before_any_image_is_made(tmp_path, suffix):
    import keras

    # Fully convolutional: declaring 50000×50000 costs nothing until an image of that size is made.
    model = keras.Sequential([keras.Input((50000, 50000, 3)), keras.layers.Conv2D(2, 3),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])
    path = tmp_path / f"huge{suffix}"
    model.save(path)
    info = inspect_model_file(path)
    assert info.input_shape == (50000, 50000, 3)  # inspecting still tells the user what the file is
    opening = open_model(path)
    assert not opening.ok and "declares 50000×50000 input images" in opening.message
    assert f"{MAX_INPUT_PIXELS:,}" in opening.message


def test_keras_zip_with_huge_config_is_refused_before_reading(tmp_path):
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("config.json", "w") as out:
            chunk = b" " * (1 << 20)
            for _ in range(MAX_CONFIG_BYTES // len(chunk) + 2):
                out.write(chunk)  # spaces compress ~1000:1
        zf.writestr("metadata.json", "{}")
    assert path.stat().st_size < MAX_CONFIG_BYTES // 100
    errors = []
    peak = _peak_bytes(lambda: errors.append(open_model(path).message))
    assert "config.json unpacks to" in errors[0] and "bomb.keras" in errors[0]
    assert peak < 2 * 2**20, f"peak {peak} bytes"


def test_h5_with_huge_model_config_attribute_is_refused_before_reading(tmp_path):
    path = tmp_path / "fat.h5"
    with h5py.File(path, "w") as f:
        # A variable-length string in the file's heap: more than any config plus any metadata may take.
        f.attrs["model_config"] = " " * (MAX_CONFIG_BYTES + MAX_METADATA_BYTES + 2**20)
    errors = []
    peak = _peak_bytes(lambda: errors.append(open_model(path).message))
    assert "besides its weights" in errors[0] and "fat.h5" in errors[0]
    assert peak < 2 * 2**20, f"peak {peak} bytes"


def test_fifo_given_as_a_model_does_not_hang(tmp_path):
    fifo = tmp_path / "model.h5"
    os.mkfifo(fifo)
    result = []
    worker = threading.Thread(target=lambda: result.append(open_model(fifo)), daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():  # unblock the reader so the test run can end, then fail
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail("opening a FIFO as a model blocked")
    assert "not a regular file" in result[0].message and "model.h5" in result[0].message
    with pytest.raises(OSError, match="not a regular file"):
        read_metadata(fifo)


CRAFTED = [
    ({"preprocessing": {"kind": "mean_std", "mean": 5, "std": [1]}}, "preprocessing"),
    ({"preprocessing": {"kind": "mean_std", "mean": [0.5], "std": [float("nan")]}}, "preprocessing"),
    ({"preprocessing": {"kind": "mean_std", "mean": [0.5], "std": ["x"]}}, "preprocessing"),
    ({"class_names": 7}, "class names"),
    ({"class_names": ["a", "b"]}, "records 2 class names but has 10 outputs"),
    ({"class_names": ["x"] * 200_000}, "class names"),
    ({"input_shape": "big"}, "input shape"),
    ({"output": ["logits"]}, "output kind"),
    ({"dataset": {"id": 1}}, "dataset"),
]


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
@pytest.mark.parametrize("meta, field", CRAFTED)
def test_crafted_metadata_is_checked_field_by_field(tmp_path, meta, field, suffix):
    path = tmp_path / f"m{suffix}"
    _tiny().save(path)
    text = json.dumps({"format": 1, **meta})  # NaN is written as JSON's non-standard NaN, as an attacker could
    if suffix == ".h5":
        with h5py.File(path, "a") as f:
            f.attrs[METADATA_ATTR] = text
    else:
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("workbench_metadata.json", text)
    loaded = load_any_model(path)
    x = np.random.default_rng(0).integers(0, 256, (3, 12, 12, 3), dtype=np.uint8)
    assert np.isfinite(loaded.predict_proba(x)).all()
    assert len(loaded.class_names) == 10
    if field:
        assert any(f"m{suffix}" in w and (f"its {field}" in w or field in w) for w in loaded.warnings), loaded.warnings
        assert all(w.endswith(".") for w in loaded.warnings)
    if field == "preprocessing":
        assert loaded.preprocessing_guessed


def test_escape_codes_in_class_names_never_reach_the_terminal(tmp_path):
    path = tmp_path / "ansi.h5"
    _tiny(classes=3).save(path)
    names = ["\x1b[2J\x1b]0;pwned\x07cat", "dog\x1b[31m", "bird\n\rfake line"]
    with h5py.File(path, "a") as f:
        f.attrs[METADATA_ATTR] = json.dumps({"format": 1, "class_names": names, "dataset": "\x1b[5mx"})
    loaded = load_any_model(path)
    shown = " ".join(loaded.class_names) + loaded.describe() + inspect_model_file(path).describe()
    assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown
    assert loaded.class_names[:2] == ("cat", "dog") and loaded.class_names[2].startswith("bird")


def test_metadata_does_not_nest_extra_when_a_model_is_converted(tmp_path):
    from workbench.core.modelio import save_model

    model = _tiny()
    own = ("format", "class_names", "dataset", "preprocessing", "input_shape", "output", "arch", "workbench_version")
    path = save_model(model, tmp_path / "m0.h5", class_names=list("abcdefghij"), dataset_id="cifar10",
                      extra={"epochs": 3})
    for i, suffix in enumerate([".keras", ".h5", ".keras"], start=1):
        meta = read_metadata(path)
        # What a format conversion passes on: everything that is not one of the fields save_model writes.
        extra = {k: v for k, v in meta.items() if k not in own}
        path = save_model(model, tmp_path / f"m{i}{suffix}", class_names=meta["class_names"], dataset_id="cifar10",
                          extra=extra)
    assert read_metadata(path)["extra"] == {"epochs": 3}
    assert build_metadata(class_names=["a", "b"], dataset_id="x",
                          extra={"extra": {"extra": {"a": 1}, "b": 2}, "c": 3})["extra"] == {"a": 1, "b": 2, "c": 3}


@pytest.mark.parametrize("depth", [100_000, 900])
def test_deeply_nested_config_is_a_sentence(tmp_path, depth):
    text = '{"class_name": "Sequential", "config": {"layers": [' + "[" * depth + "]" * depth + "]}}"
    keras_path = tmp_path / "deep.keras"
    with zipfile.ZipFile(keras_path, "w") as zf:
        zf.writestr("config.json", text)
    h5_path = tmp_path / "deep.h5"
    with h5py.File(h5_path, "w") as f:
        f.attrs["model_config"] = text
    for path in (keras_path, h5_path):
        opening = open_model(path)
        assert not opening.ok and path.name in opening.message and "damaged" in opening.message, opening.message


def test_weights_that_unpack_far_beyond_the_file_are_refused(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])
    path = tmp_path / "bomb.h5"
    model.save(path)
    with h5py.File(path, "a") as f:  # 1 GiB of zeros, gzip-compressed to about a megabyte
        f["model_weights"].create_dataset("padding", shape=(2**28,), dtype="float32", compression="gzip",
                                          chunks=(2**20,))
    assert path.stat().st_size < 20 * 2**20
    errors = []
    peak = _peak_bytes(lambda: errors.append(open_model(path).message))
    assert "unpack to 1,024 MiB" in errors[0] and "bomb.h5" in errors[0]
    assert peak < 2 * 2**20
    # Our own files pass the same check.
    from workbench.core.modelio import save_model

    for suffix in (".h5", ".keras"):
        ours = save_model(_tiny(), tmp_path / f"ours{suffix}", class_names=list("abcdefghij"), dataset_id="cifar10")
        assert open_model(ours).ok
