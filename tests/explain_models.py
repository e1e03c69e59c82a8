"""Tiny real models for the explanation tests: simple_cnn trained briefly on the built-in shapes, the same
network nested inside another model, and a model without spatial layers (Grad-CAM undefined there)."""

from __future__ import annotations

from pathlib import Path

N_TRAIN = 500


def trained_cnn():
    """(simple_cnn trained one epoch on 500 built-in images, the dataset)."""
    import keras

    from workbench.core.architectures import build_model
    from workbench.core.datasets import load_dataset

    keras.utils.set_random_seed(3)
    ds = load_dataset("builtin")
    model = build_model("simple_cnn", ds.num_classes)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(ds.x_train[:N_TRAIN].astype("float32"), ds.y_train[:N_TRAIN], epochs=1, batch_size=50, verbose=0)
    return model, ds


def nested(base):
    """``base`` inside a Functional model (the transfer-learning shape that breaks keras.io's snippet)."""
    import keras

    inputs = keras.Input(base.input_shape[1:])
    return keras.Model(inputs, base(inputs), name="outer")


def dense_only(ds):
    """Flatten → Dense softmax, trained one epoch: no layer has height × width."""
    import keras

    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(ds.num_classes, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(ds.x_train[:N_TRAIN].astype("float32"), ds.y_train[:N_TRAIN], epochs=1, batch_size=50, verbose=0)
    return model


def save(model, ds, folder: Path, name: str) -> str:
    from workbench.core.modelio import save_model

    return str(save_model(model, Path(folder) / name, class_names=ds.class_names, dataset_id="builtin"))
