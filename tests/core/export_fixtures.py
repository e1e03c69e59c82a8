"""Tiny trained models for the export tests: ours (float32 and bfloat16 mixed precision), a logits model,
and a tf_keras (Keras 2) .h5 whose preprocessing the loader has to guess (x/255)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

N_TRAIN = 200

# Keras 2 writes its file in a child process: tf_keras and Keras 3 do not share one process well.
TF_KERAS_WRITER = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tf_keras as k
    data = np.load(sys.argv[1])
    k.utils.set_random_seed(0)
    m = k.Sequential([
        k.layers.Conv2D(8, 3, input_shape=(32, 32, 3), activation="relu"),
        k.layers.MaxPooling2D(),
        k.layers.Conv2D(16, 3, activation="relu"),
        k.layers.GlobalAveragePooling2D(),
        k.layers.Dense(5, activation="softmax"),
    ])
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(data["x"] / 255.0, data["y"], epochs=2, batch_size=32, verbose=0)
    m.save(sys.argv[2])
    """
)


def builtin_data():
    from workbench.core.datasets import load_dataset

    data = load_dataset("builtin")
    return data, np.asarray(data.x_train[:N_TRAIN]), np.asarray(data.y_train[:N_TRAIN])


def train_ours(folder: Path, name: str, *, policy: str = "float32") -> Path:
    """simple_cnn trained one epoch on 200 built-in images, saved as our .h5 (raw pixels, metadata)."""
    import keras

    from workbench.core.architectures import build_model
    from workbench.core.modelio import save_model

    data, x, y = builtin_data()
    keras.utils.set_random_seed(0)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = build_model("simple_cnn", data.num_classes, dropout=0.0)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    finally:
        keras.config.set_dtype_policy(previous)
    path = folder / name
    save_model(model, path, class_names=list(data.class_names), dataset_id="builtin")
    return path


def logits_model():
    """A Keras 3 model ending in a linear Dense (logits) that wants pixels in 0..1."""
    import keras

    from workbench.core.modelio import LoadedModel

    data, x, y = builtin_data()
    keras.utils.set_random_seed(0)
    inp = keras.Input((32, 32, 3))
    h = keras.layers.Conv2D(8, 3, activation="relu")(inp)
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inp, keras.layers.Dense(data.num_classes)(h))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x / 255.0, y, epochs=1, batch_size=32, verbose=0)
    return LoadedModel.from_keras(model, data.class_names, preprocessing="scale_0_1", dataset_id="builtin")


def tf_keras_file(folder: Path) -> Path:
    data, x, y = builtin_data()
    arrays = folder / "train.npz"
    np.savez(arrays, x=x, y=y)
    out = folder / "third_party.h5"
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, "-c", TF_KERAS_WRITER, str(arrays), str(out)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out
