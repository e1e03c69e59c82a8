"""Leakage between train and test: the same image in both splits makes test accuracy a lie.

Two checks, both on what was imported: identical file bytes (a copied file, whatever its name),
and identical decoded pixels at the import size (the same picture saved again without its
metadata, or converted to another format losslessly). Re-encoded JPEGs of one photo differ in
their pixels and are not caught: that needs a perceptual hash, which can also flag near-duplicates
that are legitimately different pictures.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

MATCH_FILE = "same file contents"
MATCH_PIXELS = "same pixels"


@dataclass(frozen=True)
class Leak:
    """One test image that is also in the training images."""

    train_path: str  # relative to the imported folder
    test_path: str
    match: str  # MATCH_FILE or MATCH_PIXELS


def find_leaks(train_files: list[str], test_files: list[str], file_digests: list[bytes],
               x_train: np.ndarray, x_test: np.ndarray) -> tuple[Leak, ...]:
    """Every test image whose file or pixels equal a training image's.

    ``file_digests`` are train rows then test rows. Pixels are matched by a CRC-32 of each row, then
    compared in full, so a checksum collision is never reported.
    """
    n_train = len(train_files)
    x_train, x_test = np.asarray(x_train), np.asarray(x_test)  # plain views: a memmap's row indexing is 10x slower
    by_file: dict[bytes, str] = {}
    for i, path in enumerate(train_files):
        by_file.setdefault(file_digests[i], path)
    by_pixels: dict[int, list[int]] = {}
    for i in range(n_train):
        by_pixels.setdefault(zlib.crc32(x_train[i]), []).append(i)
    leaks = []
    for j, path in enumerate(test_files):
        same_file = by_file.get(file_digests[n_train + j])
        if same_file is not None:
            leaks.append(Leak(same_file, path, MATCH_FILE))
            continue
        for i in by_pixels.get(zlib.crc32(x_test[j]), ()):
            if np.array_equal(x_train[i], x_test[j]):
                leaks.append(Leak(train_files[i], path, MATCH_PIXELS))
                break
    return tuple(leaks)
