"""Leakage between train and test: the same image in both splits makes test accuracy a lie.

Identical decoded pixels at the import size are a leak: a copied file (whatever its name), or the
same picture saved again without its metadata or converted to another format losslessly; matching
file CRC-32s tell the first kind from the others. Re-encoded JPEGs of one photo differ in
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


def find_leaks(train_files: list[str], test_files: list[str], file_crcs: list[int], pixel_crcs: list[int],
               x_train: np.ndarray, x_test: np.ndarray) -> tuple[Leak, ...]:
    """Every test image whose pixels equal a training image's, marked "same file contents" when the
    files' CRC-32s match too.

    ``file_crcs`` (zlib.crc32 of each file's bytes) and ``pixel_crcs`` (of each image's pixels) are
    train rows then test rows. Identical files decode to identical pixels, so every leak shares a
    pixel CRC; candidates are then compared in full, so a checksum collision is never reported. The
    usual case, no test image sharing a CRC with any training image, is settled by one numpy lookup.
    """
    n_train = len(train_files)
    if not n_train or not test_files:
        return ()
    crcs = np.array(pixel_crcs, np.uint32)
    train_crcs = np.sort(crcs[:n_train])  # sorted + searchsorted: np.isin would import numpy.ma (40 ms) on first use
    found = train_crcs[np.minimum(np.searchsorted(train_crcs, crcs[n_train:]), n_train - 1)]
    suspects = np.flatnonzero(found == crcs[n_train:])
    if not len(suspects):
        return ()
    x_train, x_test = np.asarray(x_train), np.asarray(x_test)  # plain views: a memmap's row indexing is 10x slower
    by_pixels: dict[int, list[int]] = {}
    for i, crc in enumerate(pixel_crcs[:n_train]):
        by_pixels.setdefault(crc, []).append(i)
    leaks = []
    for j in suspects.tolist():
        same = [i for i in by_pixels[pixel_crcs[n_train + j]] if np.array_equal(x_train[i], x_test[j])]
        if not same:
            continue
        copy = next((i for i in same if file_crcs[i] == file_crcs[n_train + j]), None)
        leaks.append(Leak(train_files[same[0]], test_files[j], MATCH_PIXELS) if copy is None
                     else Leak(train_files[copy], test_files[j], MATCH_FILE))
    return tuple(leaks)
