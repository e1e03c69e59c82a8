"""Importing a folder of labelled images as a Dataset: scan, decode once in parallel, split, cache.

`import_folder` is the one call the CLI and the window make. It scans ``ROOT/<class>/…`` (or
``ROOT/train/<class>/…`` with ``test/`` or ``val/``), decodes every usable image once into one
uint8 array, and caches it; later calls with an unchanged folder reopen the cache memory-mapped.
Messy files are listed with a reason, never fatal. Progress is reported as ``progress(done, total)`` in
image files read of those found (a file that turns out unusable counts as read, and as skipped in the
result, so 2,001 files read can give 2,000 images), from the calling thread; setting ``cancel`` stops the
import (ImportCancelled) and writes nothing.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.thread  # noqa: F401 - loaded with this module, not inside a user's first load (5 ms)
import logging
import operator
import os
import threading
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from workbench.core.images.colour import COLOR_MODES
from workbench.core.images.decode import decode_image, probe_image
from workbench.core.images.errors import ImageSkipped
from workbench.core.images.fit import FIT_MODES, FITTED_WORDS, DecodeTarget
from workbench.core.images.read import read_image_bytes
from workbench.core.text import count_of

from .dataset import Dataset
from .errors import DatasetError, ImportCancelled
from .folder_cache import (PIXELS, folder_cache_dir, listing_key, load_folder_cache, open_pixels, pixel_store,
                           save_folder_cache)
from .folder_leakage import Leak, find_leaks
from .folder_scan import LAYOUT_SPLIT_FOLDERS, FolderScan, SkippedFile, scan_folder
from .registry import DatasetInfo

# Longest side of the default size: the workbench's networks are small CNNs made for 32×32; 64
# keeps 4× the pixels for detail while 50,000 RGB images stay 0.6 GB. A larger size is the user's call.
DEFAULT_MAX_SIDE = 64
# Largest side a user may ask for: beyond this, small CNNs learn nothing more and memory explodes.
MAX_SIDE = 1024
# The decoded dataset is held in memory while importing (and the cache is this big on disk).
MAX_DATASET_BYTES = 16 * 2**30
# Images whose headers are read to find the folder's typical size and colour: enough for a stable
# median, and about 50 ms.
SIZE_SAMPLE = 1000
# Held-out test share per class when the folder has no test/ or val/ folder (Keras' validation_split
# examples and scikit-learn's default are 0.2 to 0.25); the seed makes the split reproducible.
TEST_FRACTION = 0.2
SPLIT_SEED = 0
# Decoding threads: the codecs release the GIL while decoding and resizing; past 8 the file reads and
# Python glue no longer get faster, and every worker may hold one large photo in memory.
MAX_DECODE_WORKERS = 8
# Images per task handed to a worker: large enough to amortise scheduling, small enough that
# cancel and progress react within a fraction of a second.
CHUNK_FILES = 64

Progress = Callable[[int, int], None]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportSettings:
    """How every image was made to fit: size, colour and the aspect-ratio rule."""

    height: int
    width: int
    color: str  # "rgb" or "grayscale"
    fit: str  # one of images.fit.FIT_MODES: "crop" (centre-crop to the aspect ratio), "pad" (letterbox), "stretch"

    @property
    def channels(self) -> int:
        return 1 if self.color == "grayscale" else 3

    def describe(self) -> str:
        return (f"{self.width}×{self.height} {'grayscale' if self.channels == 1 else 'RGB'}, "
                f"{FITTED_WORDS[self.fit]} to fit")


@dataclass(frozen=True)
class SplitInfo:
    """Where the test images came from: the folder's own test/ (or val/) folder, or held out by us."""

    source: str  # "folder", "held out", or "none" (too few images in every class to hold one out)
    test_folder: str | None = None
    fraction: float | None = None
    seed: int | None = None

    def describe(self) -> str:
        if self.source == "folder":
            return f"test images from the folder's {self.test_folder}/ folder"
        if self.source == "none":
            return ("no image was held out for testing (too few usable images in each class); add a test/ folder "
                    "or more images to measure accuracy")
        return (f"{self.fraction:.0%} of each class held out for testing (stratified, seed {self.seed}); "
                "the folder has no test/ or val/ folder")


@dataclass(frozen=True, eq=False)
class ImportResult:
    """The imported Dataset and everything a user should see about how it was made."""

    dataset: Dataset
    root: Path
    layout: str  # folder_scan.LAYOUT_CLASS_FOLDERS or LAYOUT_SPLIT_FOLDERS
    settings: ImportSettings
    defaults: tuple[str, ...]  # settings chosen for the user: "size", "color"
    split: SplitInfo
    skipped: tuple[SkippedFile, ...]
    empty_classes: tuple[str, ...]  # class folders with no usable training image (not classes)
    train_counts: tuple[int, ...]  # images per class, in class-name order
    test_counts: tuple[int, ...]
    leaks: tuple[Leak, ...]  # the same image in train and test
    train_files: tuple[str, ...] = field(repr=False)  # relative path of every x_train row
    test_files: tuple[str, ...] = field(repr=False)
    cache_folder: Path | None = None
    from_cache: bool = False

    def summary(self) -> str:
        """One line for a status bar or the CLI: sizes, classes, settings, skipped and leak counts."""
        d = self.dataset
        parts = [f"{len(d.x_train) + len(d.x_test):,} images in {d.num_classes} classes "
                 f"({len(d.x_train):,} train, {len(d.x_test):,} test)", self.settings.describe()]
        if self.skipped:
            parts.append(f"{count_of(len(self.skipped), 'file')} skipped")
        if self.empty_classes:
            n = len(self.empty_classes)
            parts.append(f"{n} class folder{'s' if n > 1 else ''} without a usable image")
        if self.leaks:
            parts.append(f"{len(self.leaks):,} test images also in train")
        return "; ".join(parts)


def import_folder(root: str | os.PathLike, *, size: int | tuple[int, int] | None = None,
                  color: str | None = None, fit: str = "crop", progress: Progress | None = None,
                  cancel: threading.Event | None = None) -> ImportResult:
    """Import (or reopen from the cache) the labelled images under ``root``.

    ``size``: an int for square images or (height, width); None = the folder's median size with its
    longer side capped at DEFAULT_MAX_SIDE. ``color``: "rgb" or "grayscale"; None = grayscale only if
    every image is. ``fit``: "crop", "pad" or "stretch". Raises DatasetError with one sentence for a folder
    that cannot be imported, ImportCancelled when ``cancel`` is set.
    """
    requested = _requested(size, color, fit)
    folder = folder_cache_dir(Path(root).expanduser(), requested)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="cache") as pool:
        # Checksumming the cache and scanning the folder each take ~0.1 s for 50,000 images: overlap them.
        opening = pool.submit(load_folder_cache, folder)
        scan = scan_folder(root)
        key = listing_key(scan.root, scan.listing, requested)
        cached = opening.result()
    if cached is not None and cached[0] == key:
        result = _from_cache(scan, cached[1:], folder)
        if result is not None:
            if progress is not None:
                progress(scan.candidates, scan.candidates)
            return result
    if scan.candidates == 0:
        raise DatasetError(f"{scan.root} holds no image files in its class folders (PNG, JPEG, BMP, GIF, TIFF "
                           "or WebP); add images to the class folders.")
    return _build(scan, requested, key, folder, progress, cancel)


def _build(scan: FolderScan, requested: dict, key: str, folder: Path, progress: Progress | None,
           cancel: threading.Event | None) -> ImportResult:
    """Decode, split and cache: the import when no current cache exists."""
    settings, defaults = _settings(scan, requested)
    rows, planned_test, split = _plan_split(scan)
    store, tmp = _pixel_store(scan, rows, settings, folder)
    saved = False
    try:
        decoded = _decode_all(scan, rows, settings, store, progress, cancel)
        if "color" in defaults and settings.color == "grayscale" and not all(decoded.gray[decoded.ok]):
            # The sample said grayscale, a colour image says otherwise: RGB after all.
            settings = ImportSettings(settings.height, settings.width, "rgb", settings.fit)
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            store, tmp = _pixel_store(scan, rows, settings, folder)
            decoded = _decode_all(scan, rows, settings, store, progress, cancel)
        is_test = _settle_split(scan, rows, planned_test, decoded.ok, split)
        if split.source == "held out" and not is_test[decoded.ok].any():
            split = SplitInfo("none")  # every class was too small: say so, not "20 % held out"
        result = _assemble(scan, rows, is_test, decoded, settings, defaults, split, folder)
        if cancel is not None and cancel.is_set():
            raise ImportCancelled(f"The import of {scan.root} was cancelled; nothing was saved.")
        if tmp is not None:
            used = len(result.train_files) + len(result.test_files)
            arrays = _cache_arrays(result, scan.train + scan.test)
            meta = {**_meta(result), "root": str(scan.root.resolve()), "requested": requested}  # for prune_caches
            saved = save_folder_cache(folder, key, arrays, meta, (store, tmp, used))
    finally:
        if tmp is not None and not saved:
            tmp.unlink(missing_ok=True)  # cancelled or failed: no half-made cache is left behind
    if not saved:
        return replace(result, cache_folder=None)
    # Hand out the cache's read-only mapping: the same arrays a later reload gives.
    pixels = open_pixels(folder)
    d = result.dataset
    n_train = len(d.x_train)
    dataset = Dataset(d.info, pixels[:n_train], d.y_train, pixels[n_train:n_train + len(d.x_test)], d.y_test)
    return replace(result, dataset=dataset, cache_folder=folder)


# ---- settings ---------------------------------------------------------------------------------------

def _requested(size, color, fit) -> dict:
    if fit not in FIT_MODES:
        raise DatasetError(f"The fit must be one of {', '.join(FIT_MODES)}, not {fit!r}.")
    if color is not None and color not in COLOR_MODES:
        raise DatasetError(f"The colour must be {' or '.join(COLOR_MODES)}, not {color!r}.")
    if size is not None:
        try:
            pair = size if isinstance(size, (tuple, list)) else (size, size)
            hw = [operator.index(s) for s in pair]
        except TypeError:
            hw = []
        if len(hw) != 2 or isinstance(size, bool) or not all(1 <= s <= MAX_SIDE for s in hw):
            raise DatasetError(f"The image size must be 1 to {MAX_SIDE} pixels a side, not {size!r}.")
        size = hw
    return {"size": size, "color": color, "fit": fit}


def _settings(scan: FolderScan, requested: dict) -> tuple[ImportSettings, tuple[str, ...]]:
    defaults = tuple(name for name in ("size", "color") if requested[name] is None)
    size, color = requested["size"], requested["color"]
    if defaults:
        probed = _probe_sample(scan)
        if size is None:
            size = _typical_size(probed)
        if color is None:
            color = "grayscale" if probed and all(gray for _, _, gray in probed) else "rgb"
    return ImportSettings(size[0], size[1], color, requested["fit"]), defaults


def _probe_sample(scan: FolderScan) -> list[tuple[int, int, bool]]:
    files = [rel for rel, _ in scan.train + scan.test]
    step = max(1, len(files) // SIZE_SAMPLE)
    probed = (probe_image(str(scan.root / rel)) for rel in files[::step][:SIZE_SAMPLE])
    return [p for p in probed if p is not None]


def _typical_size(probed: list[tuple[int, int, bool]]) -> list[int]:
    """Median height and width, scaled down (aspect kept) so the longer side is ≤ DEFAULT_MAX_SIDE."""
    if not probed:
        return [32, 32]  # nothing readable: the import will report every file
    w = float(np.median([p[0] for p in probed]))
    h = float(np.median([p[1] for p in probed]))
    scale = min(1.0, DEFAULT_MAX_SIDE / max(w, h))
    return [max(1, round(h * scale)), max(1, round(w * scale))]


# ---- split ------------------------------------------------------------------------------------------

def _plan_split(scan: FolderScan) -> tuple[list[tuple[str, int]], np.ndarray, SplitInfo]:
    """(rows, is_test per row, SplitInfo) before decoding: training rows first, then test rows, each in
    class then path order, so the test rows end up behind the training rows without moving an image.

    The test rows are the folder's own test/ (or val/) files, else a share of each class held out.
    """
    if scan.test or (scan.layout == LAYOUT_SPLIT_FOLDERS and scan.test_folder):
        rows = list(scan.train + scan.test)
        return rows, np.arange(len(rows)) >= len(scan.train), SplitInfo("folder", test_folder=scan.test_folder)
    by_class: list[list[tuple[str, int]]] = [[] for _ in scan.class_names]
    for row in scan.train:
        by_class[row[1]].append(row)
    train, test = [], []
    for files, name in zip(by_class, scan.class_names):
        held = set(_held_out(len(files), name).tolist())
        train += [row for i, row in enumerate(files) if i not in held]
        test += [row for i, row in enumerate(files) if i in held]
    return train + test, np.arange(len(train) + len(test)) >= len(train), SplitInfo(
        "held out", fraction=TEST_FRACTION, seed=SPLIT_SEED)


def _settle_split(scan: FolderScan, rows, planned_test: np.ndarray, ok: np.ndarray, split: SplitInfo) -> np.ndarray:
    """The planned split, except that a held-out class whose usable images all landed in the test share
    (its training files were damaged) gets them back for training: no class vanishes for a bad file."""
    if split.source != "held out":
        return planned_test  # the user's own test folder is never second-guessed
    is_test = planned_test.copy()
    labels = np.fromiter(map(operator.itemgetter(1), rows), np.int64, len(rows))
    trainable = np.zeros(len(scan.class_names), bool)
    trainable[labels[ok & ~planned_test]] = True
    is_test[~trainable[labels]] = False
    return is_test


def _held_out(n: int, class_name: str) -> np.ndarray:
    """Positions held out of a class of n images; seeded by the class name, so adding a class moves nothing else."""
    if n < 2:
        return np.zeros(0, np.int64)
    n_test = min(n - 1, max(1, round(n * TEST_FRACTION)))
    name_seed = zlib.crc32(class_name.encode("utf-8", "surrogateescape"))
    return np.sort(np.random.default_rng([SPLIT_SEED, name_seed]).permutation(n)[:n_test])


# ---- decoding ---------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class _Decoded:
    pixels: np.ndarray  # N × H × W × C, rows in plan order
    ok: np.ndarray  # bool per row
    gray: np.ndarray  # bool per row: the source image was grayscale
    reasons: dict[int, str]  # row -> why it was skipped
    # CRC-32s of each row's file and pixels for the leak check, taken while both are hot in the CPU cache.
    file_crcs: list[int | None]
    pixel_crcs: list[int | None]


def decode_workers() -> int:
    """Threads used for decoding: the CPUs this process may run on, at most MAX_DECODE_WORKERS.

    Also for folders of tiny JPEGs, where each file's open, read and close hand the GIL over: measured
    on CIFAR-10 on 2 busy CPUs, a second thread cost up to 50% more CPU time when the machine was
    moderately loaded but cut the wall time by a quarter when it was overloaded (it gets its own share).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DECODE_WORKERS))


def _pixel_store(scan: FolderScan, rows, settings: ImportSettings, folder: Path):
    """(array to decode into, its temp file in the cache folder or None); refuses datasets over the cap."""
    shape = (len(rows), settings.height, settings.width, settings.channels)
    nbytes = int(np.prod(shape))
    if nbytes > MAX_DATASET_BYTES:
        raise DatasetError(
            f"{len(rows):,} images of {settings.width}×{settings.height} would need {nbytes / 2**30:,.1f} GB, more "
            f"than the {MAX_DATASET_BYTES // 2**30} GB an imported dataset may take; choose a smaller image size."
        )
    return pixel_store(folder, shape)


def _decode_all(scan: FolderScan, rows, settings: ImportSettings, pixels: np.ndarray, progress: Progress | None,
                cancel: threading.Event | None) -> _Decoded:
    n = len(rows)
    target = DecodeTarget(settings.height, settings.width, settings.channels, settings.fit)
    # A plain view of the (possibly memory-mapped) store: a memmap's row indexing costs 2 µs a row.
    decoded = _Decoded(np.asarray(pixels), np.zeros(n, bool), np.zeros(n, bool), {}, [None] * n, [None] * n)
    cancel = cancel or threading.Event()
    stop = threading.Event()  # also set when this thread fails, so the workers end early
    try:
        # Files are opened relative to the folder: no path joining, and the kernel walks only the last parts.
        root_fd = os.open(scan.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise DatasetError(f"{scan.root} cannot be read ({exc.strerror}).") from None
    sizes = {path: size for path, size, _ in scan.listing}  # what the scan saw: reads then skip an fstat
    chunks = [range(start, min(n, start + CHUNK_FILES)) for start in range(0, n, CHUNK_FILES)]
    done = 0
    with concurrent.futures.ThreadPoolExecutor(decode_workers(), thread_name_prefix="decode") as pool:
        futures = [pool.submit(_decode_chunk, (root_fd, sizes), rows, chunk, target, decoded, (cancel, stop))
                   for chunk in chunks]
        try:
            for future in concurrent.futures.as_completed(futures):
                done += future.result()
                if cancel.is_set():
                    break
                if progress is not None:
                    progress(done, n)
        finally:
            stop.set()
            for future in futures:
                future.cancel()
    os.close(root_fd)  # after the pool: every worker has finished with it
    if cancel.is_set():
        raise ImportCancelled(f"The import of {scan.root} was cancelled; nothing was saved.")
    return decoded


def _decode_chunk(files: tuple[int, dict[str, int]], rows, chunk: range, target: DecodeTarget, decoded: _Decoded,
                  stops: tuple[threading.Event, threading.Event]) -> int:
    """Decode rows ``chunk`` into ``decoded`` (each row is written by exactly one worker); ``files`` is the
    open folder and each file's size from the scan."""
    root_fd, sizes = files
    cancel, stop = stops
    pixels, ok, gray, file_crcs, pixel_crcs = (decoded.pixels, decoded.ok, decoded.gray, decoded.file_crcs,
                                               decoded.pixel_crcs)
    for row in chunk:
        if cancel.is_set() or stop.is_set():
            break
        out = pixels[row]
        try:
            rel = rows[row][0]
            data = read_image_bytes(rel, root_fd, sizes.get(rel))
            _, is_gray = decode_image(data, target, out=out)
        except ImageSkipped as exc:
            decoded.reasons[row] = str(exc)
            continue
        except Exception as exc:  # noqa: BLE001 - a hostile file may trip any parser; it must not end the import
            decoded.reasons[row] = f"could not be decoded ({type(exc).__name__}: {str(exc)[:120]})"
            continue
        ok[row] = True
        gray[row] = is_gray
        file_crcs[row] = zlib.crc32(data)
        pixel_crcs[row] = zlib.crc32(out)
    return len(chunk)


# ---- the result ---------------------------------------------------------------------------------------

def _assemble(scan: FolderScan, rows, is_test: np.ndarray, decoded: _Decoded, settings: ImportSettings,
              defaults, split: SplitInfo, folder: Path) -> ImportResult:
    skipped = list(scan.skipped)
    skipped += [SkippedFile(rows[i][0], reason) for i, reason in decoded.reasons.items()]
    labels = np.fromiter(map(operator.itemgetter(1), rows), np.int64, len(rows))
    has_train = np.zeros(len(scan.class_names), bool)
    has_train[labels[decoded.ok & ~is_test]] = True
    empty = tuple(_shown(name) for i, name in enumerate(scan.class_names) if not has_train[i])
    kept = np.flatnonzero(has_train)
    if not len(kept):
        raise DatasetError(f"None of the images in {scan.root} could be read; "
                           f"{len(skipped)} files were skipped (damaged, empty or not images).")
    if len(kept) < 2:
        raise DatasetError(
            f"{scan.root} has usable images in one class folder only ({_shown(scan.class_names[kept[0]])!r}); a "
            "classifier needs at least two, so choose the folder that holds one folder per class."
        )
    orphans = decoded.ok & ~has_train[labels]  # test images of a class with nothing to train on
    skipped += [SkippedFile(rows[i][0], f"its class {_shown(scan.class_names[labels[i]])!r} has no usable "
                                        "training image") for i in np.flatnonzero(orphans)]
    keep = decoded.ok & has_train[labels]
    train_idx, test_idx = np.flatnonzero(keep & ~is_test), np.flatnonzero(keep & is_test)
    if not len(test_idx) or not len(train_idx) or train_idx[-1] < test_idx[0]:
        # Test rows already follow the training rows: one compaction, no second copy of any image.
        pixels = _compact(decoded.pixels, np.concatenate([train_idx, test_idx]))
        x_train, x_test = pixels[:len(train_idx)], pixels[len(train_idx):]
    else:
        # Rows moved back for training sit among the test rows: set the test rows aside for a moment.
        held = decoded.pixels[test_idx]
        x_train = _compact(decoded.pixels, train_idx)
        x_test = decoded.pixels[len(train_idx):len(train_idx) + len(test_idx)]
        x_test[...] = held  # back into the freed tail: the dataset stays one block of memory
        del held
    new_label = np.full(len(scan.class_names), -1, np.int64)
    new_label[kept] = np.arange(len(kept))
    y_train, y_test = new_label[labels[train_idx]], new_label[labels[test_idx]]
    path_of = operator.itemgetter(0)
    train_files = tuple(path_of(rows[i]) for i in train_idx.tolist())
    test_files = tuple(path_of(rows[i]) for i in test_idx.tolist())
    order = np.concatenate([train_idx, test_idx]).tolist()
    leaks = find_leaks(train_files, test_files, [decoded.file_crcs[i] for i in order],
                       [decoded.pixel_crcs[i] for i in order], x_train, x_test)
    class_names = tuple(_shown(scan.class_names[i]) for i in kept)
    info = _folder_info(scan, class_names, len(train_idx), len(test_idx), settings)
    return ImportResult(
        Dataset(info, x_train, y_train, x_test, y_test), scan.root, scan.layout, settings, tuple(defaults), split,
        tuple(sorted(skipped, key=lambda s: s.path)), empty,
        tuple(np.bincount(y_train, minlength=len(kept)).tolist()),
        tuple(np.bincount(y_test, minlength=len(kept)).tolist()),
        leaks, train_files, test_files, folder, False,
    )


def _folder_info(scan: FolderScan, class_names: tuple[str, ...], n_train: int, n_test: int,
                 settings: ImportSettings) -> DatasetInfo:
    """The registry-style description of an imported folder: id "folder:<absolute path>", no archive."""
    return DatasetInfo(f"folder:{scan.root.resolve()}", scan.root.name or str(scan.root), len(class_names),
                       class_names, n_train, n_test, None, None, None, None,
                       image_shape=(settings.height, settings.width, settings.channels), layout="folder",
                       fit=settings.fit)


def _shown(name: str) -> str:
    """A class name as written; bytes that are not UTF-8 (old archives) as \\xNN, so it can be printed."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _compact(pixels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The kept rows moved to the front in place (no second copy of the dataset); a view of them."""
    if len(keep) == len(pixels):
        return pixels
    step = 4096
    for start in range(0, len(keep), step):
        # keep is increasing, so every source row is at or after its destination: nothing is overwritten early.
        pixels[start:start + len(keep[start:start + step])] = pixels[keep[start:start + step]]
    return pixels[:len(keep)]


# ---- cache record -------------------------------------------------------------------------------------

def _cache_arrays(result: ImportResult, candidates) -> dict[str, np.ndarray]:
    """The labels, and each row's file as its position among the scan's candidates (the cache is only
    used when the folder's listing is unchanged, so the scan lists the same candidates again)."""
    position = {rel: i for i, (rel, _) in enumerate(candidates)}
    d = result.dataset
    return {"y_train": d.y_train, "y_test": d.y_test,
            "train_rows": np.fromiter((position[f] for f in result.train_files), np.int64, len(result.train_files)),
            "test_rows": np.fromiter((position[f] for f in result.test_files), np.int64, len(result.test_files))}


def _meta(result: ImportResult) -> dict:
    s = result.settings
    return {
        "class_names": list(result.dataset.class_names),
        "layout": result.layout,
        "settings": [s.height, s.width, s.color, s.fit],
        "defaults": list(result.defaults),
        "split": [result.split.source, result.split.test_folder, result.split.fraction, result.split.seed],
        "skipped": [[f.path, f.reason] for f in result.skipped],
        "empty_classes": list(result.empty_classes),
        "leaks": [[leak.train_path, leak.test_path, leak.match] for leak in result.leaks],
    }


def _from_cache(scan: FolderScan, cached, folder: Path) -> ImportResult | None:
    """The ImportResult a cache holds, or None (with a warning) when its record does not add up."""
    arrays, meta = cached
    try:
        names = tuple(str(n) for n in meta["class_names"])
        h, w, color, fit = meta["settings"]
        settings = ImportSettings(int(h), int(w), str(color), str(fit))
        pixels, y_train, y_test = (arrays[k] for k in (PIXELS, "y_train", "y_test"))
        if len(pixels) != len(y_train) + len(y_test):
            raise ValueError("row count")
        x_train, x_test = pixels[:len(y_train)], pixels[len(y_train):]
        candidates = [rel for rel, _ in scan.train + scan.test]
        train_files, test_files = (_files_at(arrays[k], candidates) for k in ("train_rows", "test_rows"))
        for x, y, files in ((x_train, y_train, train_files), (x_test, y_test, test_files)):
            if x.shape[1:] != (settings.height, settings.width, settings.channels) or x.dtype != np.uint8:
                raise ValueError("image array shape")
            if y.shape != (len(x),) or len(files) != len(x) or (len(y) and not 0 <= y.min() <= y.max() < len(names)):
                raise ValueError("labels")
        info = _folder_info(scan, names, len(x_train), len(x_test), settings)
        return ImportResult(
            Dataset(info, x_train, y_train, x_test, y_test), scan.root, str(meta["layout"]), settings,
            tuple(meta["defaults"]), SplitInfo(*meta["split"]),
            tuple(SkippedFile(str(p), str(r)) for p, r in meta["skipped"]), tuple(meta["empty_classes"]),
            tuple(np.bincount(y_train, minlength=len(names)).tolist()),
            tuple(np.bincount(y_test, minlength=len(names)).tolist()),
            tuple(Leak(str(a), str(b), str(m)) for a, b, m in meta["leaks"]),
            train_files, test_files, folder, True,
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("The image cache in %s does not add up (%s); decoding the folder again.",
                                            folder, exc)
        return None


def _files_at(positions: np.ndarray, candidates: list[str]) -> tuple[str, ...]:
    if positions.ndim != 1 or (len(positions) and not 0 <= positions.min() <= positions.max() < len(candidates)):
        raise ValueError("file positions")
    return tuple(map(candidates.__getitem__, positions.tolist()))
