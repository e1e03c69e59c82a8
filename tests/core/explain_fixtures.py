"""Images whose evidence is known, and a small CNN trained on them, for the Grad-CAM tests.

Each 32×32 image has noise, a grey distractor square (in every image, so it says nothing about the
class) and a 6×6 evidence square whose COLOUR is the class, both at random places that never overlap.
A network that is right must look at the evidence square; a saliency method that is right must say so.
"""

from __future__ import annotations

import numpy as np

SIZE = 32
SQUARE = 6
COLOURS = np.array([[230, 30, 30], [30, 200, 30], [40, 60, 240], [230, 220, 30]], np.uint8)  # red green blue yellow
DISTRACTOR = np.array([170, 170, 170], np.uint8)


def squares_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(images uint8 N×32×32×3, labels, evidence top-left corners N×2, distractor corners N×2)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(40, 110, size=(n, SIZE, SIZE, 3), dtype=np.uint8)
    y = rng.integers(0, len(COLOURS), size=n)
    evidence = np.zeros((n, 2), int)
    distractor = np.zeros((n, 2), int)
    for i in range(n):
        while True:
            a = rng.integers(0, SIZE - SQUARE + 1, size=2)
            b = rng.integers(0, SIZE - SQUARE + 1, size=2)
            if np.any(np.abs(a - b) >= SQUARE + 2):  # apart, with a gap
                break
        x[i, a[0]:a[0] + SQUARE, a[1]:a[1] + SQUARE] = COLOURS[y[i]]
        x[i, b[0]:b[0] + SQUARE, b[1]:b[1] + SQUARE] = DISTRACTOR
        evidence[i], distractor[i] = a, b
    return x, y, evidence, distractor


def squares_cnn(num_classes: int = len(COLOURS), *, name: str = "squares", dtype=None, softmax: bool = True):
    """A small CNN: raw pixels in, scaling inside, two conv stages, global average pooling, a dense head."""
    import keras

    inp = keras.Input((SIZE, SIZE, 3), name="pixels")
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inp)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1", dtype=dtype)(x)
    x = keras.layers.MaxPooling2D(name="pool1", dtype=dtype)(x)
    x = keras.layers.Conv2D(32, 3, padding="same", name="conv2", dtype=dtype)(x)
    x = keras.layers.BatchNormalization(name="bn2", dtype=dtype)(x)
    x = keras.layers.Activation("relu", name="relu2", dtype=dtype)(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap", dtype=dtype)(x)
    out = keras.layers.Dense(num_classes, activation="softmax" if softmax else None, name="head", dtype="float32")(x)
    return keras.Model(inp, out, name=name)


def train_squares_cnn(seed: int = 0):
    """(model, test images, test labels, evidence corners, distractor corners); a few seconds on 2 cores."""
    import keras

    keras.utils.set_random_seed(seed)
    x, y, _, _ = squares_data(1200, seed=1)
    xt, yt, et, dt = squares_data(120, seed=2)
    model = squares_cnn()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x.astype(np.float32), y, batch_size=32, epochs=6, verbose=0)
    return model, xt, yt, et, dt


def peak_hits(maps: np.ndarray, corners: np.ndarray, margin: int = 2) -> np.ndarray:
    """Whether each map's maximum lies on its square (within `margin` pixels: the map is upsampled)."""
    hits = []
    for cam, (r, c) in zip(maps, corners):
        pr, pc = np.unravel_index(int(np.argmax(cam)), cam.shape)
        hits.append(r - margin <= pr < r + SQUARE + margin and c - margin <= pc < c + SQUARE + margin)
    return np.array(hits)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (ties get their average rank)."""
    def ranks(v):
        v = np.asarray(v, np.float64).ravel()
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        # average ranks over ties (all-zero regions of a ReLU map are one big tie)
        _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
        sums = np.bincount(inverse, weights=r)
        return (sums / counts)[inverse]

    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float((ra * rb).sum() / denom) if denom > 0 else 0.0
