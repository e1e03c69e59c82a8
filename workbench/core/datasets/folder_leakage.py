"""Leakage between train and test: the same image in both splits makes test accuracy a lie.

Two checks, both on what was imported: identical file bytes (a copied file, whatever its name),
and identical decoded pixels at the import size (the same picture saved again without its
metadata, or converted to another format losslessly). Re-encoded JPEGs of one photo differ in
their pixels and are not caught: that needs a perceptual hash, which can also flag near-duplicates
that are legitimately different pictures.
"""

from __future__ import annotations

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


def find_leaks(train_files: list[str], test_files: list[str], file_digests: list[bytes], pixel_crcs: list[int],
               x_train: np.ndarray, x_test: np.ndarray) -> tuple[Leak, ...]:
    """Every test image whose file or pixels equal a training image's.

    ``file_digests`` and ``pixel_crcs`` (zlib.crc32 of each image's pixels) are train rows then test
    rows. Pixels are matched by the CRC-32, then compared in full, so a checksum collision is never
    reported. The usual case, no test image matching anything, is settled by numpy set lookups.
    """
    n_train = len(train_files)
    if not n_train or not test_files:
        return ()
    digests = np.array(file_digests, dtype=f"V{len(file_digests[0])}")
    crcs = np.array(pixel_crcs, np.uint32)
    suspects = np.flatnonzero(np.isin(digests[n_train:], digests[:n_train]) | np.isin(crcs[n_train:], crcs[:n_train]))
    if not len(suspects):
        return ()
    x_train, x_test = np.asarray(x_train), np.asarray(x_test)  # plain views: a memmap's row indexing is 10x slower
    by_file: dict[bytes, str] = {}
    for i, path in enumerate(train_files):
        by_file.setdefault(file_digests[i], path)
    by_pixels: dict[int, list[int]] = {}
    for i, crc in enumerate(pixel_crcs[:n_train]):
        by_pixels.setdefault(crc, []).append(i)
    leaks = []
    for j in suspects.tolist():
        path = test_files[j]
        same_file = by_file.get(file_digests[n_train + j])
        if same_file is not None:
            leaks.append(Leak(same_file, path, MATCH_FILE))
            continue
        for i in by_pixels.get(pixel_crcs[n_train + j], ()):
            if np.array_equal(x_train[i], x_test[j]):
                leaks.append(Leak(train_files[i], path, MATCH_PIXELS))
                break
    return tuple(leaks)
