"""Classifying files: one image decoded at a time, hostile files refused in one sentence, every step
taken to fit an image told, broken (NaN) models refused, results streamed for a GUI to show and cancel."""

from __future__ import annotations

import csv
import os
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from workbench.core.images import find, read
from workbench.core.images.errors import ImageReadError
from workbench.core.images.find import collect_image_files
from workbench.core.images.fit import model_image_shape
from workbench.core.images.prepare import prepare_image

ROOT = Path(__file__).resolve().parents[2]


def _model(shape=(32, 32, 3), classes=10, nan=False):
    import keras

    from workbench.core.modelio.loaded_model import LoadedModel

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape), keras.layers.Rescaling(1 / 255.0), keras.layers.Conv2D(4, 3),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(classes, activation="softmax")])
    if nan:
        model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    return LoadedModel.from_keras(model, [f"c{i}" for i in range(classes)])


@pytest.fixture(scope="module")
def loaded():
    return _model()


def _png(path, w, h, mode="RGB"):
    rng = np.random.default_rng(w * h)
    channels = {"RGB": 3, "RGBA": 4}.get(mode)
    arr = rng.integers(0, 256, (h, w, channels) if channels else (h, w), dtype=np.uint8)
    Image.fromarray(arr, mode).save(path)
    return path


# ---- what was done to each image ---------------------------------------------------------------

def test_steps_say_crop_resize_and_colour(tmp_path):
    wide = prepare_image(_png(tmp_path / "wide.png", 80, 40), (32, 32, 3))
    assert wide.model_input.shape == (32, 32, 3) and wide.original_size == (80, 40)
    assert wide.steps == ("centre-cropped 80×40 to 40×40", "resized 40×40 to 32×32")
    padded = prepare_image(tmp_path / "wide.png", (32, 32, 3), fit="pad")
    assert padded.steps == ("resized 80×40 to 32×16", "padded with black bars to 32×32")
    assert padded.model_input[:8].max() == 0 and padded.model_input[-8:].max() == 0  # the bars
    stretched = prepare_image(tmp_path / "wide.png", (32, 32, 3), fit="stretch")
    assert stretched.steps == ("resized 80×40 to 32×32 (stretched)",)
    gray = prepare_image(_png(tmp_path / "g.png", 32, 32, "L"), (32, 32, 3))
    assert gray.steps == ("repeated the grayscale picture in 3 channels (the model takes RGB)",)
    to_gray = prepare_image(tmp_path / "wide.png", (28, 28, 1))
    assert "converted colour to grayscale (the model takes 1 channel)" in to_gray.steps
    assert to_gray.model_input.shape == (28, 28, 1)
    rgba = prepare_image(_png(tmp_path / "t.png", 32, 32, "RGBA"), (32, 32, 3))
    assert rgba.steps == ("filled transparent areas with white",)
    Image.fromarray(np.full((32, 32), 40000, np.uint16)).save(tmp_path / "deep.png")
    deep = prepare_image(tmp_path / "deep.png", (32, 32, 3))
    assert deep.steps[0] == "scaled 16-bit pixels to 8 bits" and deep.model_input[0, 0, 0] == round(40000 / 257)
    same = prepare_image(_png(tmp_path / "same.png", 32, 32), (32, 32, 3))
    assert same.steps == ()


def test_exif_rotation_is_applied_before_fitting(tmp_path):
    arr = np.zeros((20, 60, 3), np.uint8)
    arr[:, :30] = 255  # left half white
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # stored sideways: shown turned 90° clockwise, so 20 wide and 60 high
    img.save(tmp_path / "photo.jpg", exif=exif, quality=95)
    out = prepare_image(tmp_path / "photo.jpg", (32, 32, 3), fit="stretch")
    assert out.original_size == (20, 60)
    assert out.model_input[:10].mean() > 200 and out.model_input[-10:].mean() < 50  # white on top


def test_large_jpeg_is_decoded_small_and_still_right(tmp_path):
    arr = np.zeros((3000, 4000, 3), np.uint8)
    arr[:, 2000:] = 255
    Image.fromarray(arr).save(tmp_path / "big.jpg", quality=90)
    out = prepare_image(tmp_path / "big.jpg", (32, 32, 3), preview_size=100)
    assert out.original_size == (4000, 3000) and out.model_input.shape == (32, 32, 3)
    assert out.model_input[:, :12].max() < 20 and out.model_input[:, 20:].min() > 235
    assert out.preview.shape == (75, 100, 3)
    assert out.steps == ("centre-cropped 4000×3000 to 3000×3000", "resized 3000×3000 to 32×32")


# ---- hostile files -----------------------------------------------------------------------------

def _png_header_only(path, w, h):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))
    return path


def test_too_many_pixels_is_one_sentence(tmp_path):
    bomb = _png_header_only(tmp_path / "bomb.png", 20000, 20000)  # 400 megapixels claimed, 60 bytes stored
    with pytest.raises(ImageReadError, match=r"^bomb.png has 400 megapixels, more than the 64 megapixels "
                                             r"an image may have\.$"):
        prepare_image(bomb, (32, 32, 3))


def test_file_size_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "MAX_IMAGE_FILE_BYTES", 1000)
    path = _png(tmp_path / "noise.png", 64, 64)
    with pytest.raises(ImageReadError, match=r"^noise.png is 0 MB, more than the 0 MB an image file may have"):
        prepare_image(path, (32, 32, 3))


def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_error_of(fifo)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading a FIFO hung"
    assert "is not a regular file (a pipe, socket or device)" in outcome[0]
    with pytest.raises(ImageReadError, match="not a regular file"):
        collect_image_files([fifo])


def _error_of(path):
    try:
        prepare_image(path, (32, 32, 3))
    except ImageReadError as exc:
        return str(exc)
    return "no error"


def test_eps_is_not_handed_to_ghostscript(tmp_path):
    eps = tmp_path / "x.png"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(ImageReadError, match="is not an image file that can be read"):
        prepare_image(eps, (32, 32, 3))


def test_model_inputs_that_images_cannot_feed_are_refused():
    with pytest.raises(ImageReadError, match="50000×50000-pixel inputs"):
        model_image_shape((50000, 50000, 3))
    with pytest.raises(ImageReadError, match="4-channel"):
        model_image_shape((32, 32, 4))
    assert model_image_shape((None, None, 3)) == (32, 32, 3)


_PEAK_SCRIPT = """
import resource, sys
import keras
from workbench.core.classify import classify_images
from workbench.core.modelio.loaded_model import LoadedModel
model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D(),
                          keras.layers.Dense(10, activation="softmax")])
loaded = LoadedModel.from_keras(model, [str(i) for i in range(10)])
classify_images(loaded, [sys.argv[1]])  # warm up TensorFlow on one small image
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
results = classify_images(loaded, sys.argv[2:])
assert all(r.ok for r in results), [r.error for r in results]
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_many_big_images_cost_about_one_decoded_image(tmp_path):
    """Six 6000×6000 PNGs (108 MB decoded each as RGB, 144 MB in Pillow): the peak grows by about one."""
    arr = np.zeros((6000, 6000, 3), np.uint8)
    arr[:, :, 0] = np.arange(6000, dtype=np.uint32)[None, :] % 251
    Image.fromarray(arr).save(tmp_path / "big0.png", compress_level=1)
    del arr
    paths = [tmp_path / "big0.png"]
    for i in range(1, 6):
        os.link(paths[0], tmp_path / f"big{i}.png")
        paths.append(tmp_path / f"big{i}.png")
    small = _png(tmp_path / "small.png", 40, 40)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(small), *map(str, paths)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    grown_mb = int(out.stdout.split()[-1])
    assert grown_mb < 400, f"peak RSS grew by {grown_mb} MB for six images"


# ---- classifying ---------------------------------------------------------------------------------

def test_results_stream_in_order_and_stop_when_cancelled(tmp_path, loaded):
    from workbench.core.classify import classify_images, iter_classify

    paths = [_png(tmp_path / f"{i}.png", 40 + i, 30) for i in range(5)]
    (tmp_path / "bad.png").write_text("nope")
    paths.insert(2, tmp_path / "bad.png")
    seen = []
    results = classify_images(loaded, paths, top=2, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(i, 6) for i in range(1, 7)]
    assert [Path(r.image).name for r in results] == [p.name for p in paths]
    assert [r.ok for r in results] == [True, True, False, True, True, True]
    assert results[0].steps == ("centre-cropped 40×30 to 30×30", "enlarged 30×30 to 32×32")
    assert results[0].original_size == (40, 30) and len(results[0].top) == 2
    expected = loaded.predict_proba(results[0].model_input)[0]
    assert results[0].top[0] == ("c" + str(int(expected.argmax())), pytest.approx(float(expected.max()), abs=1e-5))
    lean = classify_images(loaded, paths[:2], keep_inputs=False)
    assert [r.model_input for r in lean] == [None, None]
    assert [name for name, _ in lean[0].top[:2]] == [name for name, _ in results[0].top]
    stop_after = []
    gen = iter_classify(loaded, paths, cancel=lambda: len(stop_after) >= 1, preview_size=16)
    stop_after.append(next(gen))
    assert list(gen) == [] and stop_after[0].preview.shape == (12, 16, 3)


def test_nan_model_is_refused_with_one_sentence(tmp_path):
    from workbench.core.classify import classify_images
    from workbench.core.predict_guard import NonFiniteOutputError

    broken = _model(nan=True)
    with pytest.raises(NonFiniteOutputError, match=r"^The model outputs NaN for these images: the model is broken"):
        classify_images(broken, [_png(tmp_path / "a.png", 32, 32)])


def test_a_model_failing_inside_tensorflow_is_one_sentence(tmp_path):
    """One image goes through an eager call, whose error text differs from a graph's; both become one sentence."""
    import keras

    from workbench.core.classify import classify_images
    from workbench.core.modelio.loaded_model import LoadedModel
    from workbench.core.predict_guard import PredictionError

    bad = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Embedding(10, 2),
                            keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    loaded = LoadedModel.from_keras(bad, [str(i) for i in range(10)])
    for count in (1, 3):
        paths = [_png(tmp_path / f"{i}.png", 32, 32) for i in range(count)]
        with pytest.raises(PredictionError, match=r"^The model failed while predicting \(.*is not in \[0, 10\)\); "
                                                  r"the model does not work on these inputs\.$"):
            classify_images(loaded, paths)


def test_csv_has_the_steps(tmp_path, loaded):
    from workbench.core.classify import classify_images, write_results_csv

    results = classify_images(loaded, [_png(tmp_path / "a.png", 64, 32), tmp_path / "missing.png"], top=2)
    write_results_csv(results, tmp_path / "out.csv")
    rows = list(csv.reader(open(tmp_path / "out.csv", encoding="utf-8")))
    assert rows[0] == ["image", "error", "label_1", "probability_1", "label_2", "probability_2", "steps"]
    assert rows[1][-1] == "centre-cropped 64×32 to 32×32"
    assert rows[2][1] == f"There is no file at {tmp_path / 'missing.png'}." and len(rows[2]) == 7
    assert sorted(os.listdir(tmp_path)) == ["a.png", "out.csv"]  # no temporary file left


def test_folders_are_searched_sorted_with_non_images_counted(tmp_path, monkeypatch):
    (tmp_path / "b" / "deep").mkdir(parents=True)
    for name in ("b/deep/z.png", "b/a.JPG", "c.png"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "b" / "notes.txt").write_text("x")
    found = collect_image_files([tmp_path])
    assert [Path(p).relative_to(tmp_path).as_posix() for p in found.files] == ["b/a.JPG", "b/deep/z.png", "c.png"]
    assert found.skipped == 1
    monkeypatch.setattr(find, "MAX_FOLDER_FILES", 3)
    with pytest.raises(ImageReadError, match="holds more than 3 files; classify a smaller folder"):
        collect_image_files([tmp_path])
    with pytest.raises(ImageReadError, match="There is no image or folder at"):
        collect_image_files([tmp_path / "nothing"])
