"""A tiny CNN trained on the built-in shapes, shared by the embedding map's CLI and window tests."""

from __future__ import annotations

from pathlib import Path


def train_tiny_model(path: Path, epochs: int = 2, images: int = 400) -> Path:
    """A small CNN (a 16-unit penultimate layer) trained `epochs` on the first `images` built-in training
    images, saved as .h5; seconds on two cores."""
    import keras

    from workbench.core.datasets import load_dataset

    ds = load_dataset("builtin")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255.0),
                              keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(5, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(ds.x_train[:images], ds.y_train[:images], epochs=epochs, batch_size=50, verbose=0)
    model.save(path)
    return path
