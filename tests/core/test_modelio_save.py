"""Saving models with their metadata, atomically, in both formats."""

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from workbench.core.architectures import build_model
from workbench.core.modelio import read_metadata, save_model

CLASSES = [f"class{i}" for i in range(10)]


@pytest.fixture(scope="module")
def model():
    return build_model("embedded_cnn", 10)


@pytest.fixture(scope="module")
def pixels():
    return np.random.default_rng(0).integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_round_trip_gives_identical_predictions_and_metadata(tmp_path, model, pixels, suffix):
    import keras

    path = save_model(
        model, tmp_path / f"model{suffix}", class_names=CLASSES, dataset_id="cifar10", extra={"epochs": 3}
    )
    assert path == tmp_path / f"model{suffix}" and os.listdir(tmp_path) == [path.name]
    loaded = keras.models.load_model(path, compile=False, safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(pixels, verbose=0), model.predict(pixels, verbose=0))
    meta = read_metadata(path)
    assert meta == {
        "format": 1,
        "class_names": CLASSES,
        "dataset": "cifar10",
        "preprocessing": "raw_0_255",
        "input_shape": [32, 32, 3],
        "output": "probabilities",
        "arch": "embedded_cnn",
        "workbench_version": meta["workbench_version"],
        "extra": {"epochs": 3},
    }


def test_compiled_model_saves_without_compile_state(tmp_path, model):
    import h5py
    import keras

    from workbench.core.metrics import TopKAccuracy

    clone = keras.models.clone_model(model)
    clone.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", TopKAccuracy(5)])
    path = save_model(clone, tmp_path / "m.h5", class_names=CLASSES, dataset_id="cifar10", arch="x")
    with h5py.File(path, "r") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f
    keras.models.load_model(path)  # loads even with compile=True: nothing custom is stored
    assert read_metadata(path)["arch"] == "x"


def test_default_suffix_is_h5(tmp_path, model):
    path = save_model(model, tmp_path / "plain", class_names=CLASSES, dataset_id="cifar10")
    assert path.name == "plain.h5" and read_metadata(path)["dataset"] == "cifar10"


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_interrupted_save_keeps_the_old_file_and_leaves_no_temp(tmp_path, model, monkeypatch, suffix):
    target = tmp_path / f"model{suffix}"
    save_model(model, target, class_names=CLASSES, dataset_id="cifar10")
    before = target.read_bytes()

    def broken_save(path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half a model")
        raise KeyboardInterrupt("stopped mid-save")

    monkeypatch.setattr(model, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_model(model, target, class_names=list("abcdefghij"), dataset_id="cifar100")
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == [target.name]
    assert read_metadata(target)["class_names"] == CLASSES


def test_bad_destinations_are_one_sentence(tmp_path, model):
    with pytest.raises(ValueError, match="does not exist"):
        save_model(model, tmp_path / "nope" / "m.h5", class_names=CLASSES, dataset_id="cifar10")
    with pytest.raises(ValueError, match="must end in .h5 or .keras"):
        save_model(model, tmp_path / "m.txt", class_names=CLASSES, dataset_id="cifar10")
    with pytest.raises(ValueError, match="predicts 10 classes but 3 class names"):
        save_model(model, tmp_path / "m.h5", class_names=["a", "b", "c"], dataset_id="cifar10")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root can write anywhere
            with pytest.raises(OSError, match="not writable"):
                save_model(model, locked / "m.h5", class_names=CLASSES, dataset_id="cifar10")
    finally:
        locked.chmod(0o700)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_read_metadata_needs_no_tensorflow(tmp_path):
    import h5py

    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f.attrs["workbench_metadata"] = '{"format": 1}'
    code = (
        "import sys, workbench.core.modelio as m;"
        f"assert m.read_metadata({str(path)!r}) == {{'format': 1}};"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_read_metadata_of_foreign_files(tmp_path, model):
    import h5py

    legacy = tmp_path / "legacy.h5"
    with h5py.File(legacy, "w") as f:
        f.attrs["model_config"] = "{}"
    assert read_metadata(legacy) is None
    bare = tmp_path / "bare.keras"
    with zipfile.ZipFile(bare, "w") as zf:
        zf.writestr("config.json", "{}")
    assert read_metadata(bare) is None
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="not a readable HDF5"):
        read_metadata(junk)
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable .keras"):
        read_metadata(tmp_path / "junk.keras")
    with pytest.raises(FileNotFoundError, match="no model file"):
        read_metadata(tmp_path / "missing.h5")


# The venv has the workbench installed; the finder below makes it unimportable, as on a machine without it.
PLAIN_KERAS_LOADER = (
    "import os, sys, importlib.abc; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3';"
    "Block = type('Block', (importlib.abc.MetaPathFinder,), {'find_spec': lambda self, name, path, target=None:"
    " (_ for _ in ()).throw(ImportError(name)) if name.split('.')[0] == 'workbench' else None});"
    "sys.meta_path.insert(0, Block());"
    "import numpy as np, keras;"
    "x = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3)).astype('float32');"
    "outs = [keras.models.load_model(sys.argv[1], compile=c).predict(x, verbose=0) for c in (True, False)];"
    "np.testing.assert_allclose(outs[0], outs[1]);"
    "np.save(sys.argv[2], outs[0]);"
    "assert 'workbench' not in sys.modules, 'plain Keras imported the workbench'"
)


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_a_model_out_of_training_loads_in_plain_keras(tmp_path, suffix):
    """Our files load in plain Keras 3 without the workbench, compiled or not (not `Could not locate class`)."""
    import keras

    from workbench.core.metrics import TopKAccuracy

    model = build_model("embedded_cnn", 10)
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=[TopKAccuracy(k=1, name="top1"), TopKAccuracy(k=5, name="top5")])
    model.fit(np.zeros((4, 32, 32, 3), np.float32), np.arange(4), verbose=0)  # as after training: built optimizer
    path = save_model(model, tmp_path / f"trained{suffix}", class_names=CLASSES, dataset_id="cifar10")
    # A folder where `workbench` cannot be imported, so loading must not need it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-I", "-c", PLAIN_KERAS_LOADER, str(path), str(tmp_path / "out.npy")],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-1500:]
    x = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), model.predict(x, verbose=0), atol=1e-6)
    assert keras is not None
