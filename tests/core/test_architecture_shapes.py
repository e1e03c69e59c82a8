"""Networks follow the data: any image size and channel count a network's layers allow, or one sentence why not."""

import subprocess
import sys

import numpy as np
import pytest

from workbench.core.architectures import (
    ARCHITECTURES,
    MAX_SIDE,
    build_model,
    count_params,
    get_arch,
    input_problem,
    layer_table,
    min_input_side,
    param_counts_for,
    parse_input_shape,
)
from workbench.core.architectures.geometry import side_after

# Worked out by hand from the layer arithmetic (see docs/ARCHITECTURES.md for the layers).
SMALLEST_SIDE = {
    "toy_resnet": 13,  # 3x3, 3x3 valid -> pool 3 -> 3x3 valid: 13-4=9 -> 3 -> 1
    "toy_resnet_deep": 13,
    "embedded_cnn": 24,  # 9x9 valid -> four 2x2 pools: 24-8=16 -> 8 -> 4 -> 2 -> 1
    "all_conv": 27,  # 5x5 -> pool 3/2 -> 5x5 -> pool 3/2 -> 3x3: 23 -> 11 -> 7 -> 3 -> 1
    "simple_cnn": 22,  # three (3x3 valid, 2x2 pool): 20 -> 10 -> 8 -> 4 -> 2 -> 1
    "resnet20": 1,  # same padding throughout
    "resnet_wide": 1,
    "airnet": 9,  # 2x2 valid -> three 2x2 pools: 9-1=8 -> 4 -> 2 -> 1
}
SHRINKING = sorted(name for name, side in SMALLEST_SIDE.items() if side > 1)


def pixels(n, shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8).astype("float32")


def last_spatial_layer(model):
    """The layer feeding the global pooling or the flatten: where the image is smallest."""
    rows = {row.name: row for row in layer_table(model)}
    head = rows.get("gap") or rows.get("gmp") or rows["flatten"]
    return rows[head.inbound[0]]


def first_conv(model):
    return next(layer for layer in model.layers if type(layer).__name__ == "Conv2D")


def test_every_network_is_listed_with_its_smallest_side():
    assert set(SMALLEST_SIDE) == set(ARCHITECTURES)
    for name, side in SMALLEST_SIDE.items():
        assert min_input_side(name) == side, name
        # The form shows the description: it names the same smallest size.
        said = f"images of {side}×{side} and up" if side > 1 else f"any image size up to {MAX_SIDE}×{MAX_SIDE}"
        assert said in get_arch(name).description, name


@pytest.mark.parametrize("shape", [(28, 28, 1), (64, 64, 3), (32, 32, 3)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_builds_and_predicts_for_the_data_shape(name, shape):
    assert input_problem(name, shape) is None
    model = build_model(name, 5, input_shape=shape)
    rows = layer_table(model)
    assert rows[0].output_shape == (None, *shape)
    assert rows[1].class_name == "Rescaling" and rows[-1].name == "probabilities"
    assert sum(row.params for row in rows) == model.count_params() == count_params(name, 5, input_shape=shape)
    assert first_conv(model).kernel.shape[2] == shape[2]
    x = pixels(2, shape)
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (2, 5) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    import keras

    # Raw 0-255 pixels go in; the model scales them itself, whatever the channel count.
    scaled = keras.Model(model.input, model.get_layer("rescale").output)(x)
    np.testing.assert_allclose(np.asarray(scaled), x / 255.0, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_smallest_side_and_cap_build_as_the_arithmetic_says(name):
    """At (smallest, MAX_SIDE) the real graph's last spatial layer has exactly the computed size."""
    side = min_input_side(name)
    shape = (side, MAX_SIDE, 1)
    assert input_problem(name, shape) is None
    spatial = last_spatial_layer(build_model(name, 3, input_shape=shape)).output_shape[1:3]
    steps = get_arch(name).steps
    assert spatial == (side_after(steps, side), side_after(steps, MAX_SIDE))
    if name in SHRINKING:
        assert spatial[0] == 1  # the smallest side leaves a single pixel: one less leaves none


@pytest.mark.parametrize("name", SHRINKING)
def test_one_pixel_below_the_smallest_side_is_refused_with_one_sentence(name):
    side = min_input_side(name)
    problem = input_problem(name, (side - 1, 40, 3))
    assert problem.startswith(f"{name} needs images of at least {side}×{side} pixels (")
    assert problem.endswith(f"), not {side - 1}×40.") and problem.count(".") == 1
    with pytest.raises(ValueError) as info:
        build_model(name, 10, input_shape=(side - 1, 40, 3))
    assert str(info.value) == problem
    with pytest.raises(ValueError) as info:
        count_params(name, 10, input_shape=(40, side - 1, 3))
    assert str(info.value) == input_problem(name, (40, side - 1, 3))
    # Not a guess: Keras itself cannot build the network one pixel smaller.
    with pytest.raises(ValueError, match="zero or negative"):
        get_arch(name).build(10, input_shape=(side - 1, side - 1, 3), **get_arch(name).options)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_too_large_and_odd_channel_counts_are_refused(name):
    assert input_problem(name, (MAX_SIDE, MAX_SIDE, 3)) is None
    large = input_problem(name, (MAX_SIDE + 1, 64, 3))
    assert large == (f"{name} takes images of at most 512×512 pixels (training on larger ones needs gigabytes "
                     "of memory per image), not 513×64; import them at a smaller size.")
    with pytest.raises(ValueError, match="at most 512×512"):
        build_model(name, 10, input_shape=(64, MAX_SIDE + 1, 3))
    for channels in (2, 4, 5):  # RGBA too: images reach a model as grayscale or RGB (as model files must take)
        assert input_problem(name, (64, 64, channels)) == (
            f"{name} takes images with 1 (grayscale) or 3 (RGB) channels, not {channels}.")


@pytest.mark.parametrize(
    "shape", [(0, 28, 1), (28, 28), (28, 28, 1, 1), "28x28x1", (28.0, 28, 1), (True, 28, 1), None]
)
def test_malformed_shapes_are_one_sentence(shape):
    problem = input_problem("resnet20", shape)
    assert problem == ("An input shape is three positive whole numbers, height × width × channels "
                       f"(e.g. 28×28×1), not {shape!r}.")
    with pytest.raises(ValueError) as info:
        build_model("resnet20", 10, input_shape=shape)
    assert str(info.value) == problem
    with pytest.raises(ValueError, match="three positive whole numbers"):
        count_params("resnet20", 10, input_shape=shape)


def test_lists_and_numpy_ints_are_shapes_too():
    shape = tuple(np.zeros((2, 30, 30, 1), np.uint8).shape[1:])
    assert input_problem("simple_cnn", [np.int64(30), np.int64(30), np.int64(1)]) is None
    assert count_params("simple_cnn", 10, input_shape=[30, 30, 1]) == count_params("simple_cnn", 10, input_shape=shape)


@pytest.mark.parametrize("num_classes", [10, 100])
@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_counts_at_cifar_shape_are_unchanged(name, num_classes):
    assert count_params(name, num_classes, input_shape=(32, 32, 3)) == count_params(name, num_classes)


def test_flattened_heads_grow_with_the_image_and_the_count_follows():
    # By hand: simple_cnn at 28×28×1 flattens 1×1×128 -> 320 + 18,496 + 73,856 + 33,024 + 32,896 + 1,290.
    assert count_params("simple_cnn", 10, input_shape=(28, 28, 1)) == 159_882
    assert count_params("simple_cnn", 10) == 258_762  # a cached count never answers for another shape
    assert count_params("simple_cnn", 10, input_shape=(64, 64, 3)) == 1_307_338  # flattens 6×6×128
    # embedded_cnn at 64×64×3 flattens 3×3×3: 732 + 3×228 + (27×384+384) + 49,280 + 1,290.
    assert count_params("embedded_cnn", 10, input_shape=(64, 64, 3)) == 62_738
    # Global pooling: only the first convolution's kernel follows the channel count (3×3×2×32 fewer).
    assert count_params("toy_resnet", 10, input_shape=(64, 64, 3)) == 223_242
    assert count_params("toy_resnet", 10, input_shape=(28, 28, 1)) == 223_242 - 576
    counts = param_counts_for(10, (16, 16, 1))
    assert set(counts) == set(ARCHITECTURES)
    assert counts["simple_cnn"] is None and counts["toy_resnet"] == 223_242 - 576


def test_one_and_three_channel_models_differ_in_their_first_kernel():
    gray = build_model("toy_resnet", 10, input_shape=(28, 28, 1))
    rgb = build_model("toy_resnet", 10, input_shape=(28, 28, 3))
    assert tuple(gray.get_layer("conv1").kernel.shape) == (3, 3, 1, 32)
    assert tuple(rgb.get_layer("conv1").kernel.shape) == (3, 3, 3, 32)


def test_input_problem_needs_no_tensorflow():
    code = (
        "import sys; from workbench.core.architectures import ARCHITECTURES, input_problem;"
        "answers = [input_problem(n, s) for n in ARCHITECTURES for s in ((16, 16, 1), (28, 28, 1), (600, 9, 3))];"
        "assert any(answers) and None in answers;"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "text, shape", [("28x28x1", (28, 28, 1)), (" 64×64×3 ", (64, 64, 3)), ("32X32X4", (32, 32, 4))]
)
def test_parse_input_shape(text, shape):
    assert parse_input_shape(text) == shape


@pytest.mark.parametrize("text", ["28x28", "28x28x1x1", "axbxc", "", "-1x28x1", "0x28x1", "1e3x28x1"])
def test_parse_input_shape_refuses_with_one_sentence(text):
    with pytest.raises(ValueError, match=r"^An input shape is .*\.$"):
        parse_input_shape(text)


def test_unknown_network_is_a_value_error_not_an_answer():
    with pytest.raises(ValueError, match="Unknown architecture 'vgg99'"):
        input_problem("vgg99", (32, 32, 3))


def test_the_guide_table_of_sizes_matches_the_networks():
    """docs/ARCHITECTURES.md's "Other image sizes" table is what the code builds (it cannot drift)."""
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURES.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1:-1] for line in guide.splitlines() if line.startswith("| ")]
    checked = 0
    for cells in rows:
        names = [n.strip() for n in cells[0].split(",")]
        if not set(names) <= set(ARCHITECTURES):
            continue
        for index, name in enumerate(names):
            assert min_input_side(name) == int(cells[1]), name
            for cell, shape in ((cells[3], (28, 28, 1)), (cells[4], (64, 64, 3))):
                figure = int(cell.split("/")[index].strip().replace(",", ""))
                assert count_params(name, 10, input_shape=shape) == figure, (name, shape)
            checked += 1
    assert checked == len(ARCHITECTURES)
