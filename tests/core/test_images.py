"""Reading odd image files, fitting them to a model's input, and classifying a batch of files."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PIL import Image

from workbench.core.images.decode import decode_image
from workbench.core.images.errors import ImageReadError
from workbench.core.images.fit import DecodeTarget, fit_image
from workbench.core.images.prepare import prepare_image


def read_image(path):
    """The whole picture as the model of its own size is fed it (RGB): nothing resized."""
    with Image.open(path) as img:
        w, h = img.size
    return prepare_image(path, (h, w, 3)).model_input


def fit_to_input(image, shape, fit="crop"):
    return fit_image(image, shape, fit=fit)[0]


def _check_rgb(arr, shape):
    assert arr.dtype == np.uint8 and arr.shape == shape


def test_rgb_png_and_jpeg_and_bmp(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    for suffix in ("png", "bmp"):
        Image.fromarray(rgb).save(tmp_path / f"a.{suffix}")
        np.testing.assert_array_equal(read_image(tmp_path / f"a.{suffix}"), rgb)
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=95)
    _check_rgb(read_image(tmp_path / "a.jpg"), (20, 30, 3))


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    arr = read_image(tmp_path / "g.png")
    _check_rgb(arr, (8, 8, 3))
    np.testing.assert_array_equal(arr[..., 0], gray)
    np.testing.assert_array_equal(arr[..., 2], gray)


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    arr = read_image(tmp_path / "t.png")
    np.testing.assert_array_equal(arr[0, 0], [200, 0, 0])
    np.testing.assert_array_equal(arr[3, 3], [255, 255, 255])


def test_16_bit_png_is_scaled_to_8_bit(tmp_path):
    deep = np.array([[0, 257 * 100], [65535, 257 * 7]], np.uint16)
    Image.fromarray(deep).save(tmp_path / "d.png")
    arr = read_image(tmp_path / "d.png")
    _check_rgb(arr, (2, 2, 3))
    np.testing.assert_array_equal(arr[..., 1], [[0, 100], [255, 7]])


def test_palette_gif_with_transparency(tmp_path):
    img = Image.new("P", (6, 6), 1)
    img.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    img.putpixel((0, 0), 0)
    img.save(tmp_path / "p.gif", transparency=0)
    arr = read_image(tmp_path / "p.gif")
    _check_rgb(arr, (6, 6, 3))
    np.testing.assert_array_equal(arr[0, 0], [255, 255, 255])  # the transparent index
    np.testing.assert_array_equal(arr[5, 5], [10, 200, 30])


def test_not_an_image_and_missing_file(tmp_path):
    (tmp_path / "notes.png").write_text("this is text, not pixels")
    with pytest.raises(ImageReadError, match="notes.png is not an image"):
        prepare_image(tmp_path / "notes.png", (32, 32, 3))
    with pytest.raises(ImageReadError, match="There is no file"):
        prepare_image(tmp_path / "nothing.png", (32, 32, 3))
    truncated = tmp_path / "cut.png"
    Image.fromarray(np.zeros((50, 50, 3), np.uint8)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:60])
    with pytest.raises(ImageReadError, match="^cut.png is damaged or truncated"):
        prepare_image(truncated, (32, 32, 3))


def test_fit_to_input_tiny_huge_and_grayscale_model():
    tiny = np.full((1, 1, 3), 77, np.uint8)
    out = fit_to_input(tiny, (32, 32, 3))
    _check_rgb(out, (32, 32, 3))
    assert np.all(out == 77)
    huge = np.zeros((3000, 4000, 3), np.uint8)
    huge[:, 2000:] = 255  # right half white: after a centre crop to a square, half of it stays white
    out = fit_to_input(huge, (32, 32, 3))
    _check_rgb(out, (32, 32, 3))
    assert out[:, :13].max() <= 3 and out[:, 19:].min() >= 252  # Lanczos rings a little at the edge
    huge[:, :500, 0] = 255  # a red band that the centre crop (500 columns each side) removes; the resize
    # filter reaches a little past the crop into the outer column only (as Pillow's ImageOps.fit)
    cropped = fit_to_input(huge, (32, 32, 3))
    assert cropped[:, 1:13, 0].max() <= 3 and cropped[:, 0, 0].max() <= 25
    stretched = fit_to_input(huge, (32, 32, 3), fit="stretch")
    assert stretched[:, 0, 0].min() >= 250 and stretched[:, 19:].min() >= 252
    gray = fit_to_input(np.full((40, 40, 3), [255, 0, 0], np.uint8), (28, 28, 1))
    assert gray.shape == (28, 28, 1) and abs(int(gray[0, 0, 0]) - 76) <= 1  # 0.299 * 255
    with pytest.raises(ImageReadError):
        fit_to_input(np.zeros((5, 5, 3), np.uint8), (32, 32, 4))


def test_antialiased_downscale_averages_fine_stripes():
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: nearest-neighbour would give pure black or white
    out = fit_to_input(stripes, (16, 16, 3))
    assert 100 < out.mean() < 155 and out.std() < 20


# ---- classifying files -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def loaded_model():
    import keras

    from workbench.core.modelio.loaded_model import LoadedModel

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255.0),
                              keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10, activation="softmax")])
    return LoadedModel.from_keras(model, [f"c{i}" for i in range(10)])


def test_classify_images_with_a_bad_file_in_the_batch(tmp_path, loaded_model):
    from workbench.core.classify import classify_images, write_results_csv

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8), "L").save(tmp_path / "b.jpg")
    (tmp_path / "c.png").write_text("nope")
    results = classify_images(loaded_model, [tmp_path / "a.png", tmp_path / "c.png", tmp_path / "b.jpg"], top=3)
    assert [r.ok for r in results] == [True, False, True]
    first = results[0]
    assert len(first.top) == 3 and first.model_input.shape == (32, 32, 3)
    probs = [p for _, p in first.top]
    assert probs == sorted(probs, reverse=True)
    expected = loaded_model.predict_proba(first.model_input)[0]
    assert first.top[0] == (f"c{int(expected.argmax())}", pytest.approx(float(expected.max()), abs=1e-5))
    assert "c.png" in results[1].error
    write_results_csv(results, tmp_path / "out.csv")
    rows = list(csv.reader(open(tmp_path / "out.csv", encoding="utf-8")))
    assert rows[0][:4] == ["image", "error", "label_1", "probability_1"] and len(rows) == 4
    assert rows[2][1] and not rows[1][1]


# ---- one decoder: the import, classify and evaluate give the same pixels --------------------------------

def _saved(arr, fmt="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(arr).save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fit", ["crop", "pad", "stretch"])
@pytest.mark.parametrize("channels", [1, 3])
def test_an_in_memory_picture_is_fitted_as_its_file_is_decoded(fit, channels):
    """evaluate and classify_arrays (fit_image) give the pixels the folder import (decode_image) makes of the
    same picture saved losslessly, for every rule and both channel counts."""
    rng = np.random.default_rng(5)
    for h, w in ((30, 50), (50, 30), (64, 64), (7, 90), (24, 32)):
        arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        target = DecodeTarget(24, 32, channels, fit)
        from_file = decode_image(_saved(arr), target)[0]
        in_memory = fit_image(arr, (24, 32, channels), fit=fit)[0]
        assert np.array_equal(in_memory, from_file), (h, w)


@pytest.mark.parametrize("fit", ["crop", "pad", "stretch"])
def test_classify_prepares_a_file_exactly_as_the_import_decodes_it(tmp_path, fit):
    """prepare_image (classify) and decode_image (the folder import) on one file: the same pixels, for a
    rotated camera JPEG larger than needed, a 16-bit PNG and a transparent PNG."""
    rng = np.random.default_rng(6)
    exif = Image.Exif()
    exif[0x0112] = 6
    files = {
        "camera.jpg": _saved(rng.integers(0, 256, (600, 900, 3), dtype=np.uint8), "JPEG", exif=exif, quality=85),
        "deep.png": _saved(rng.integers(0, 65536, (40, 70), dtype=np.uint16)),
        "clear.png": _saved(rng.integers(0, 256, (50, 40, 4), dtype=np.uint8), "PNG"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        for channels in (1, 3):
            prepared = prepare_image(tmp_path / name, (24, 32, channels), fit=fit, preview_size=16)
            imported, _ = decode_image(data, DecodeTarget(24, 32, channels, fit))
            assert np.array_equal(prepared.model_input, imported), (name, channels)
            assert max(prepared.preview.shape[:2]) == 16 and prepared.preview.shape[2] == 3
    assert prepare_image(tmp_path / "camera.jpg", (24, 32, 3), fit=fit).original_size == (600, 900)  # upright


def test_every_place_that_offers_a_resize_rule_offers_the_same_ones():
    """FIT_MODES is the one list: the CLI's --fit of datasets add, classify and evaluate, the datasets
    registry and a model file's metadata take exactly these, and older files' crop and pad stay readable."""
    from workbench.cli import build_parser
    from workbench.core.images.fit import FIT_MODES
    from workbench.core.modelio.metadata import build_metadata, clean_metadata

    assert FIT_MODES == ("crop", "pad", "stretch")
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    datasets_add = commands["datasets"]._subparsers._group_actions[0].choices["add"]
    for command in (datasets_add, commands["classify"], commands["evaluate"]):
        [fit] = [a for a in command._actions if "--fit" in a.option_strings]
        assert tuple(fit.choices) == FIT_MODES, command.prog
    for rule in FIT_MODES:
        meta = build_metadata(class_names=["a", "b"], dataset_id="mine", fit=rule)
        assert clean_metadata(meta, "m.h5")[0]["fit"] == rule
