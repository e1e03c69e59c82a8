"""The report's five networks rebuilt exactly, their defects fixed, and the registry's contract."""

import functools
import subprocess
import sys

import numpy as np
import pytest

from workbench.core import architectures as archs
from workbench.core.architectures import ARCHITECTURES, build_model, count_params, layer_table

REPORT_COUNTS = {
    "toy_resnet": (223_242, 246_372),
    "embedded_cnn": (53_522, 65_132),
    "all_conv": (839_352, 866_712),
    "toy_resnet_deep": (328_714, 340_324),
    "simple_cnn": (258_762, 270_372),
}


@functools.lru_cache(maxsize=None)
def table(name, num_classes=10, **options):
    return {row.name: row for row in layer_table(build_model(name, num_classes, **options))}


def test_importing_the_registry_does_not_import_tensorflow():
    code = (
        "import sys, workbench.core.architectures as a, workbench.core.metrics, workbench.core.modelio;"
        "assert a.ARCHITECTURES['toy_resnet'].title;"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_registry_lists_the_five_and_a_modern_resnet():
    assert set(REPORT_COUNTS) == set(archs.REPORT_ARCHITECTURES)
    assert "resnet20" in ARCHITECTURES
    for name, spec in ARCHITECTURES.items():
        assert spec.name == name and spec.title and spec.description


@pytest.mark.parametrize("name", sorted(REPORT_COUNTS))
@pytest.mark.parametrize("column, num_classes", [(0, 10), (1, 100)])
def test_report_parameter_counts_are_exact(name, column, num_classes):
    assert count_params(name, num_classes) == REPORT_COUNTS[name][column]


def test_param_counts_for_covers_every_architecture():
    counts = archs.param_counts_for(10)
    assert set(counts) == set(ARCHITECTURES)
    assert counts["toy_resnet"] == 223_242
    assert 250_000 < counts["resnet20"] < 300_000


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_model_takes_raw_pixels_and_outputs_float32_probabilities(name):
    model = build_model(name, 7)
    rows = layer_table(model)
    assert rows[0].output_shape == (None, 32, 32, 3)
    assert rows[1].class_name == "Rescaling"
    assert rows[-1].name == "probabilities" and rows[-1].inbound == ("logits",)
    assert model.get_layer("probabilities").dtype_policy.compute_dtype == "float32"
    pixels = np.random.default_rng(0).integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    probs = np.asarray(model(pixels.astype("float32"), training=False))
    assert probs.shape == (3, 7) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()


def test_each_residual_block_adds_its_own_input():
    rows = table("toy_resnet_deep", 100)
    assert set(rows["block1_add"].inbound) == {"block1_conv2", "pool1"}
    assert set(rows["block2_add"].inbound) == {"block2_conv2", "block1_add"}
    # The report's defect: block 3 read block 1's output. It must read block 2's.
    assert set(rows["block3_add"].inbound) == {"block3_conv2", "block2_add"}
    assert rows["block3_conv1"].inbound == ("block2_add",)
    shallow = table("toy_resnet")
    assert set(shallow["block2_add"].inbound) == {"block2_conv2", "block1_add"}
    assert shallow["conv3"].inbound == ("block2_add",)


def test_modern_resnet_has_batch_norm_and_two_input_adds():
    rows = table("resnet20")
    adds = [row for row in rows.values() if row.class_name == "Add"]
    assert len(adds) == 9 and all(len(row.inbound) == 2 for row in adds)
    assert set(rows["stage1_block2_add"].inbound) == {"stage1_block2_bn2", "stage1_block1_out"}
    assert set(rows["stage2_block1_add"].inbound) == {"stage2_block1_bn2", "stage2_block1_proj_bn"}
    assert any(row.class_name == "BatchNormalization" for row in rows.values())


def test_all_conv_dropouts_are_real_layers_when_on_and_absent_when_off():
    both = table("all_conv")
    assert both["input_dropout"].inbound == ("rescale",)
    assert both["conv1"].inbound == ("input_dropout",)
    assert both["conv2"].inbound == ("dropout1",) and both["conv3"].inbound == ("dropout2",)
    cifar100 = table("all_conv", 100, inner_dropout=0.0)
    assert "input_dropout" in cifar100 and "dropout1" not in cifar100 and "dropout2" not in cifar100
    off = table("all_conv", 10, input_dropout=0, inner_dropout=0)
    assert not [r for r in off.values() if r.class_name == "Dropout"]
    assert off["conv1"].inbound == ("rescale",)
    model = build_model("all_conv", 10, input_dropout=0.3)
    assert model.get_layer("input_dropout").rate == pytest.approx(0.3)
    assert count_params("all_conv", 10, input_dropout=0.0, inner_dropout=0.0) == 839_352


def test_dense_head_dropout_sits_before_the_logits():
    rows = table("simple_cnn")
    assert rows["logits"].inbound == ("dropout",) and rows["dropout"].inbound == ("dense2",)
    assert "dropout" not in table("simple_cnn", 10, dropout=0)


def test_embedded_cnn_filter_counts_are_options():
    rows = table("embedded_cnn", 10, conv1_filters=16, conv2_filters=8)
    assert rows["conv1"].output_shape == (None, 24, 24, 16)
    assert rows["conv2"].output_shape[-1] == 8 and rows["conv4"].output_shape[-1] == 3
    assert count_params("embedded_cnn", 10, conv1_filters="3") == 53_522  # CLI strings convert


def test_report_regularizers():
    model = build_model("toy_resnet", 10)
    assert model.get_layer("conv1").bias_regularizer.l2 == pytest.approx(1e-3)
    assert model.get_layer("block1_conv2").bias_regularizer.l2 == pytest.approx(1e-4)
    assert model.get_layer("conv3").bias_regularizer.l2 == pytest.approx(1e-4)
    assert model.get_layer("conv2").bias_regularizer is None
    deep = build_model("toy_resnet_deep", 100)
    assert deep.get_layer("block3_conv2").activity_regularizer.l2 == pytest.approx(1e-4)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: build_model("vgg99", 10), "Unknown architecture 'vgg99'"),
        (lambda: build_model("toy_resnet", 1), "at least 2"),
        (lambda: build_model("toy_resnet", 10.0), "at least 2"),
        (lambda: build_model("toy_resnet", 10, dropot=0.1), "Unknown option 'dropot'"),
        (lambda: build_model("toy_resnet", 10, dropout=1.5), "between"),
        (lambda: build_model("embedded_cnn", 10, conv1_filters=2.5), "needs a int"),
        (lambda: build_model("embedded_cnn", 10, conv1_filters=True), "needs a int"),
        (lambda: count_params("simple_cnn", 10, dropout="lots"), "needs a float"),
    ],
)
def test_bad_input_is_one_clear_value_error(call, fragment):
    with pytest.raises(ValueError, match=fragment) as info:
        call()
    assert str(info.value).endswith(".")


def test_mixed_precision_still_outputs_float32_probabilities():
    import keras

    old = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build_model("resnet20", 10, blocks_per_stage=1)
        assert model.get_layer("stage1_block1_conv1").compute_dtype == "float16"
        probs = model(np.zeros((2, 32, 32, 3), dtype="float32"), training=False)
        assert keras.backend.standardize_dtype(probs.dtype) == "float32"
    finally:
        keras.mixed_precision.set_global_policy(old)


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_layer_table_of_a_loaded_model_keeps_the_residual_joins(tmp_path, suffix):
    import keras

    model = build_model("toy_resnet", 10)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = {row.name: row for row in layer_table(keras.models.load_model(path, compile=False))}
    assert set(loaded["block2_add"].inbound) == {"block2_conv2", "block1_add"}
    assert sum(row.params for row in loaded.values()) == 223_242
