"""Deterministic train/validation split by index."""

from __future__ import annotations

import numpy as np


def train_val_split(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train_idx, val_idx) covering range(n) once; the same seed gives the same split.

    ``val_fraction`` 0 gives an empty validation set; the validation size is round(n * fraction).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}.")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}.")
    n_val = int(round(n * val_fraction))
    order = np.random.default_rng(seed).permutation(n)
    val_idx = np.sort(order[:n_val])
    train_idx = np.sort(order[n_val:])
    return train_idx.astype(np.int64), val_idx.astype(np.int64)
