"""A temperature in the model file: stored atomically in .h5 and .keras (and read back), bad stored values
dropped with a sentence, applied by LoadedModel on both prediction paths, refused for read-only files."""

from __future__ import annotations

import json
import os
import stat
import zipfile

import h5py
import numpy as np
import pytest

from workbench.core.calibration import StoredTemperature, apply_temperature
from workbench.core.modelio import load_any_model, save_model
from workbench.core.modelio.metadata import METADATA_ATTR, METADATA_ENTRY, read_metadata
from workbench.core.modelio.stored_temperature import TemperatureStoreError, store_temperature

RECORD = StoredTemperature(1.75, "builtin", "the validation split of the run in r1", 48, 500, 0.21, 0.04)


def _tiny(classes=5, activation="softmax"):
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Conv2D(4, 3),
                             keras.layers.GlobalAveragePooling2D(),
                             keras.layers.Dense(classes, activation=activation, kernel_initializer="he_normal")])


@pytest.fixture(scope="module", params=[".h5", ".keras"])
def saved(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / f"model{request.param}"
    save_model(_tiny(), path, class_names=list("abcde"), dataset_id="builtin", arch="tiny")
    return path


def _images(n):
    return np.random.default_rng(n).integers(0, 256, (n, 12, 12, 3), dtype=np.uint8)


def test_a_stored_temperature_round_trips_and_keeps_the_rest(saved, tmp_path):
    path = tmp_path / saved.name
    path.write_bytes(saved.read_bytes())
    os.chmod(path, 0o640)
    before = read_metadata(path)
    store_temperature(path, RECORD)
    after = read_metadata(path)
    assert after["temperature"]["value"] == 1.75 and after["temperature"]["images"] == 48
    assert {k: v for k, v in after.items() if k != "temperature"} == before
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640  # the file keeps its permissions
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no temp file left beside it
    store_temperature(path, StoredTemperature(0.5))  # replaced, not added beside the old one
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as zf:
            assert [i.filename for i in zf.infolist()].count(METADATA_ENTRY) == 1
    loaded = load_any_model(path)
    assert loaded.temperature == 0.5 and "calibrated: temperature 0.5" in loaded.describe()
    store_temperature(path, None)
    assert "temperature" not in read_metadata(path) and load_any_model(path).temperature is None


def test_loaded_model_applies_the_temperature_on_both_paths(saved, tmp_path):
    path = tmp_path / saved.name
    path.write_bytes(saved.read_bytes())
    store_temperature(path, RECORD)
    calibrated = load_any_model(path)
    raw = calibrated.without_temperature()
    assert "not calibrated" in raw.describe() and "fitted on 48 images of builtin" in calibrated.describe()
    x = _images(40)
    p_raw = raw.predict_proba(x)
    want = apply_temperature(p_raw, 1.75)
    assert np.allclose(calibrated.predict_proba(x), want, atol=1e-5)  # batched graph path
    assert np.allclose(calibrated.predict_proba(x[0]), want[:1], atol=1e-5)  # one-image path
    assert not np.allclose(p_raw, want, atol=1e-3)  # the temperature changed something
    assert (want.argmax(1) == p_raw.argmax(1)).all()


def test_a_logits_model_is_scaled_as_logits_over_t(tmp_path):
    path = tmp_path / "logits.h5"
    model = _tiny(activation=None)
    save_model(model, path, class_names=list("abcde"), dataset_id="builtin")
    with h5py.File(path, "a") as f:
        meta = json.loads(f.attrs[METADATA_ATTR])
        f.attrs[METADATA_ATTR] = json.dumps({**meta, "output": "logits"})
    store_temperature(path, StoredTemperature(2.0))
    loaded = load_any_model(path)
    x = _images(8)
    z = np.asarray(model(x.astype(np.float32)), np.float64) / 2.0
    want = np.exp(z - z.max(1, keepdims=True))
    assert np.allclose(loaded.predict_proba(x), want / want.sum(1, keepdims=True), atol=1e-5)


@pytest.mark.filterwarnings("ignore:Duplicate name")  # the crafted .keras holds the entry twice, the last one counts
@pytest.mark.parametrize("bad, words", [
    (-1.0, "a temperature of -1.0"),
    (0, "a temperature of 0"),
    (1e9, "a temperature of 1000000000.0"),
    (float("nan"), "a temperature of nan"),
    (float("inf"), "a temperature of inf"),
    ("hot", "a temperature value that is not a number"),
])
def test_bad_stored_temperatures_are_dropped_with_a_sentence(saved, tmp_path, bad, words):
    path = tmp_path / saved.name
    path.write_bytes(saved.read_bytes())
    meta = {**read_metadata(path), "temperature": {"value": bad, "dataset": "x"}}
    text = json.dumps(meta)  # NaN/Infinity written as non-standard JSON, as a crafted file could
    if path.suffix == ".h5":
        with h5py.File(path, "a") as f:
            f.attrs[METADATA_ATTR] = text
    else:
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr(METADATA_ENTRY, text)
    loaded = load_any_model(path)
    assert loaded.temperature is None
    said = [w for w in loaded.warnings if "temperature" in w]
    assert len(said) == 1 and words in said[0] and said[0].endswith("so its temperature was ignored.")
    assert np.isfinite(loaded.predict_proba(_images(3))).all()


def test_a_read_only_model_file_is_refused_and_untouched(saved, tmp_path):
    path = tmp_path / saved.name
    path.write_bytes(saved.read_bytes())
    os.chmod(path, 0o444)  # refused by its mode even for root, whom os.access lets write anything
    data = path.read_bytes()
    with pytest.raises(TemperatureStoreError, match=r"is read-only, so the temperature was not stored"):
        store_temperature(path, RECORD)
    assert path.read_bytes() == data and os.listdir(tmp_path) == [path.name]


def test_a_re_save_does_not_carry_an_old_temperature(saved, tmp_path):
    path = tmp_path / saved.name
    path.write_bytes(saved.read_bytes())
    store_temperature(path, RECORD)
    loaded = load_any_model(path)
    again = tmp_path / f"again{path.suffix}"
    save_model(loaded.model, again, class_names=loaded.class_names, dataset_id="builtin", extra=read_metadata(path))
    assert "temperature" not in read_metadata(again) and "temperature" not in read_metadata(again).get("extra", {})


def test_with_flip_the_temperature_scales_the_averaged_probabilities(saved, tmp_path):
    from workbench.core.evaluation import evaluate

    path = tmp_path / saved.name
    path.write_bytes(saved.read_bytes())
    store_temperature(path, RECORD)
    calibrated = load_any_model(path)
    x, y = _images(30), np.arange(30) % 5
    raw = evaluate(calibrated.without_temperature(), x, y, flip=True)
    scaled = evaluate(calibrated, x, y, flip=True)
    assert scaled.temperature == 1.75 and raw.temperature is None
    assert np.allclose(scaled.probabilities, apply_temperature(raw.probabilities, 1.75), atol=1e-5)
    assert (scaled.y_pred == raw.y_pred).all()  # averaging after scaling could flip a close call; this never does


def test_a_temperature_fitted_with_other_preprocessing_is_flagged(saved, tmp_path):
    path = tmp_path / saved.name
    path.write_bytes(saved.read_bytes())
    store_temperature(path, StoredTemperature(1.5, preprocessing="raw pixels 0..255"))
    loaded = load_any_model(path)
    assert not [w for w in loaded.warnings if "temperature" in w]
    changed = loaded.with_preprocessing("scale_0_1")
    said = [w for w in changed.warnings if "temperature was fitted with preprocessing raw pixels 0..255" in w]
    assert len(said) == 1 and said[0].endswith("calibrate again.")
