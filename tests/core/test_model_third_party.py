"""Third-party files that used to load with silently wrong answers (issue 17, "In"): an adapted
Normalization in a tf.keras .h5, keras.applications bases, a Lambda that scales pixels."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from workbench.core.modelio.open import load_any_model

# Written by tf_keras (Keras 2) in a child process: tf_keras and Keras 3 do not share one process well.
TF_KERAS_WRITER = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tf_keras as k
    out = sys.argv[1]
    k.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (120, 16, 16, 3)).astype("float32")
    y = np.argmax(x.reshape(120, -1)[:, :10], axis=1)
    norm = k.layers.Normalization()
    norm.adapt(x)
    m = k.Sequential([k.Input((16, 16, 3)), norm, k.layers.Conv2D(8, 3, activation="relu"),
                      k.layers.Flatten(), k.layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(x, y, epochs=2, verbose=0)
    m.save(os.path.join(out, "norm.h5"))
    lam = k.Sequential([k.Input((16, 16, 3)), k.layers.Lambda(lambda t: t / 255.0),
                        k.layers.Conv2D(8, 3, activation="relu"), k.layers.Flatten(),
                        k.layers.Dense(10, activation="softmax")])
    lam.compile("adam", "sparse_categorical_crossentropy")
    lam.fit(x, y, epochs=2, verbose=0)
    lam.save(os.path.join(out, "lambda255.h5"))
    np.save(os.path.join(out, "x.npy"), x.astype("uint8"))
    np.save(os.path.join(out, "norm_pred.npy"), m.predict(x, verbose=0))
    np.save(os.path.join(out, "lambda255_pred.npy"), lam.predict(x, verbose=0))
    """
)


@pytest.fixture(scope="module")
def tf_keras_files(tmp_path_factory):
    pytest.importorskip("tf_keras")
    out = tmp_path_factory.mktemp("tf_keras")
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, "-c", TF_KERAS_WRITER, str(out)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def _agreement(ours, theirs):
    return float((ours.argmax(1) == theirs.argmax(1)).mean())


def test_tf_keras_adapted_normalization_computes_with_its_statistics(tf_keras_files):
    loaded = load_any_model(tf_keras_files / "norm.h5")
    x, theirs = np.load(tf_keras_files / "x.npy"), np.load(tf_keras_files / "norm_pred.npy")
    ours = loaded.predict_proba(x)
    assert loaded.preprocessing.kind == "raw_0_255" and "scales pixels itself" in loaded.preprocessing_reason
    assert _agreement(ours, theirs) >= 0.99
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
