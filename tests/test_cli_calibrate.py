"""`calibrate` and `evaluate --json` end to end on a real tiny training run: the temperature is fitted on the
run's own validation split, judged on the test split, stored in the file atomically and used by evaluate;
a model outside its run folder is fitted on half the test split; a read-only file is refused untouched."""

from __future__ import annotations

import json
import os
import shutil

import h5py
import pytest

from tests.calibration_fixtures import train_underconfident_run
from workbench.cli import main
from workbench.core.modelio.metadata import METADATA_ATTR, read_metadata


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train_underconfident_run(tmp_path_factory.mktemp("runs") / "r1")


def _cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _json(text):
    return json.loads(text.strip().splitlines()[-1], parse_constant=lambda name: pytest.fail(f"not strict: {name}"))


def test_calibrate_fits_on_the_validation_split_stores_t_and_evaluate_uses_it(run_dir, tmp_path, capsys):
    model = tmp_path / "r1" / "model.h5"
    shutil.copytree(run_dir, model.parent)  # a copy of the run folder: its own validation split is rebuilt
    code, out, err = _cli(capsys, "evaluate", model, "--dataset", "builtin", "--json")
    assert code == 0, err
    raw = _json(out)
    assert raw["temperature"] is None and len(raw["reliability"]) == 15
    assert sum(b["count"] for b in raw["reliability"]) == raw["n"] == 500
    assert raw["ece"] == pytest.approx(
        sum(b["count"] / 500 * abs(b["accuracy"] - b["confidence"]) for b in raw["reliability"] if b["count"]), abs=1e-5)

    code, out, err = _cli(capsys, "calibrate", model, "--dataset", "builtin", "--json")
    assert code == 0, err
    fit = _json(out)
    assert fit["fit_images"] == 48 and fit["fitted_on"] == "the validation split of the run in r1"
    assert fit["held_out_images"] == 500 and fit["note"] is None
    assert fit["ece_after"] < fit["ece_before"] and fit["nll_after"] < fit["nll_before"]
    assert fit["ece_before"] == pytest.approx(raw["ece"], abs=1e-6)  # the same test split, the raw model
    stored = read_metadata(model)["temperature"]
    assert stored["value"] == pytest.approx(fit["temperature"]) and stored["held_out_images"] == 500
    assert sorted(os.listdir(model.parent)) == sorted(os.listdir(run_dir))  # no temp file left behind

    code, out, err = _cli(capsys, "evaluate", model, "--dataset", "builtin", "--json")
    after = _json(out)
    assert after["temperature"] == pytest.approx(fit["temperature"]) and after["model"]["temperature"] is not None
    assert after["ece"] == pytest.approx(fit["ece_after"], abs=1e-5)
    assert after["top1"] == raw["top1"]  # a temperature never changes which class is on top
    code, out, err = _cli(capsys, "evaluate", model, "--dataset", "builtin", "--json", "--no-temperature")
    assert _json(out)["ece"] == pytest.approx(raw["ece"], abs=1e-6)

    code, out, err = _cli(capsys, "evaluate", model, "--dataset", "builtin")
    assert code == 0 and f"ECE {after['ece']:.4f} (15 bins); calibrated: temperature" in out


def test_a_model_outside_its_run_is_fitted_on_half_the_test_split(run_dir, tmp_path, capsys):
    model = tmp_path / "foreign.h5"
    shutil.copyfile(run_dir / "model.h5", model)
    with h5py.File(model, "a") as f:  # as a third party would hand it over: no run folder it could point to
        meta = json.loads(f.attrs[METADATA_ATTR])
        meta.pop("extra", None)
        f.attrs[METADATA_ATTR] = json.dumps(meta)
    code, out, err = _cli(capsys, "calibrate", model, "--dataset", "builtin")
    assert code == 0, err
    assert ("note: No validation split is known (foreign.h5 is not in a workbench run folder and names none that "
            "exists), so the temperature was fitted on one half of the test split and ECE is reported on the other "
            "half.") in out
    assert "fitted on 250 images (one half of the test split)" in out
    assert "ECE on 250 held-out images (the other half of the test split)" in out
    assert read_metadata(model)["temperature"]["split"] == "one half of the test split"


def test_a_read_only_model_is_refused_and_left_untouched(run_dir, tmp_path, capsys):
    model = tmp_path / "model.h5"
    shutil.copyfile(run_dir / "model.h5", model)
    os.chmod(model, 0o444)
    data = model.read_bytes()
    code, out, err = _cli(capsys, "calibrate", model, "--dataset", "builtin", "--json")
    assert code == 1 and out == ""
    assert err.strip() == ("error: model.h5 is read-only, so the temperature was not stored (the file is untouched); "
                           "make it writable or copy it, then calibrate again.")
    assert model.read_bytes() == data and os.listdir(tmp_path) == ["model.h5"]


def test_a_temperature_that_would_not_help_is_refused_and_nothing_is_stored(tmp_path, capsys):
    """A model answering the uniform distribution for every image: no temperature changes its confidence."""
    import keras

    from workbench.core.datasets import DATASETS
    from workbench.core.modelio import save_model

    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(5, activation="softmax", kernel_initializer="zeros")])
    path = save_model(model, tmp_path / "flat.h5", class_names=DATASETS["builtin"].class_names, dataset_id="builtin")
    data = path.read_bytes()
    code, out, err = _cli(capsys, "calibrate", path, "--dataset", "builtin")
    assert code == 1
    assert "would not lower the calibration error on 250 held-out images" in err and "nothing was stored" in err
    assert path.read_bytes() == data and "temperature" not in read_metadata(path)


def test_a_model_whose_run_is_still_live_is_refused(run_dir, tmp_path, capsys):
    from workbench.core.training.lock import RunLock

    model = tmp_path / "r1" / "model.h5"
    shutil.copytree(run_dir, model.parent)
    data = model.read_bytes()
    lock = RunLock.acquire(model.parent)  # as a training run holds its folder
    try:
        code, out, err = _cli(capsys, "calibrate", model, "--dataset", "builtin")
    finally:
        lock.release()
    assert code == 1 and "is still running and may rewrite model.h5" in err and "nothing was written" in err
    assert model.read_bytes() == data
