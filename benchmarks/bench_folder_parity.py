"""Folder-import parity: a network trained from an imported image folder scores what it scores from the pickles.

Issue 9's figure: "A network trained from that folder reaches the same validation accuracy (±1 pt,
same seed and recipe) as the same network trained from the official-format CIFAR-10 pickles of the
same images." The shared sample's 5,000 pickled training images are found among the 50,000 files
of the JPEG tree by the hash of their decoded pixels (Pillow, independent of the workbench's
decoder); a folder ``ROOT/<class>/…jpg`` holding exactly those files (symlinks) is imported with
``import_folder``. Both arrays are put in the pickles' order, so both runs see the same images in
the same order, the same stratified validation split, the same network, seed and recipe (plain
``model.fit``, TensorFlow op determinism on). Printed: how many images and pixels differ between
the two arrays, validation and test-batch top-1 of both runs and their difference in points, and
for scale the validation accuracy of the pickle run with other seeds.

    python benchmarks/bench_folder_parity.py [--shared DIR] [--jpeg-tree DIR] [--epochs 12] [--json]

Skips (exit 0) when the shared data folder is absent. Caches are written to a temporary folder
(WORKBENCH_CACHE), so the run measures a fresh import and leaves the user's cache alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from benchmarks.shared_data import add_shared_argument, shared_data_dir  # noqa: E402

PICKLES = Path("cifar10-sample") / "cifar-10-batches-py"
JPEG_ARCHIVE = Path("cifar10-train-jpeg") / "cifar10-train-jpeg.tar.gz"
# Where another run (or a person) may already have unpacked the JPEG archive.
UNPACKED_GUESS = Path("/tmp/c10jpeg/train")
# The issue's tolerance for the figure, in percentage points of validation top-1.
TOLERANCE_PT = 1.0


def pixel_hash(image: np.ndarray) -> bytes:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).digest()


def decode_with_pillow(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def match_pickles_to_files(x: np.ndarray, y: np.ndarray, tree: Path, class_names) -> dict:
    """For each pickle image, the JPEG file under ``tree`` whose decoded pixels equal it (or, failing
    that, the closest file of the same class), and how close each match is."""
    wanted = {}
    for i, image in enumerate(x):
        wanted.setdefault(pixel_hash(image), []).append(i)
    files: list[Path | None] = [None] * len(x)
    exact = np.zeros(len(x), bool)
    scanned = 0
    for label, name in enumerate(class_names):
        for path in sorted((tree / name).iterdir()):
            scanned += 1
            for i in wanted.get(pixel_hash(decode_with_pillow(path)), ()):
                if files[i] is None and y[i] == label:
                    files[i], exact[i] = path, True
    # Images without an exact twin (rare, so their class is decoded again rather than all 50,000 kept in
    # memory): the same-class file with the smallest mean absolute difference.
    max_abs = np.zeros(len(x), np.int64)
    for label in np.unique(y[~exact]):
        paths = sorted((tree / class_names[label]).iterdir())
        if not paths:
            continue
        stack = np.stack([decode_with_pillow(p) for p in paths]).astype(np.int16).reshape(len(paths), -1)
        for i in np.flatnonzero(~exact & (y == label)):
            diff = np.abs(stack - x[i].astype(np.int16).reshape(-1))
            best = int(diff.mean(axis=1).argmin())
            files[i], max_abs[i] = paths[best], int(diff[best].max())
    return {"files": files, "exact": exact, "max_abs": max_abs, "scanned": scanned}


def build_matched_folder(root: Path, files, y: np.ndarray, class_names) -> dict[str, int]:
    """``root/<class>/pNNNN_<file>`` links, one per pickle image; returns relative path -> pickle index."""
    index = {}
    for i, (src, label) in enumerate(zip(files, y)):
        if src is None:
            continue
        rel = f"{class_names[label]}/p{i:05d}_{src.name}"
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(src.resolve())
        index[rel] = i
    return index


def folder_in_pickle_order(result, index: dict[str, int], n: int, class_names) -> tuple[np.ndarray, np.ndarray]:
    """The imported folder's images and labels (train and held-out parts together) in the pickles' order."""
    d = result.dataset
    names = tuple(d.class_names)
    if names != tuple(class_names):
        raise SystemExit(f"the folder's classes {names} differ from the pickles' {tuple(class_names)}")
    x = np.zeros((n,) + d.x_train.shape[1:], np.uint8)
    y = np.full(n, -1, np.int64)
    for files, xs, ys in ((result.train_files, d.x_train, d.y_train), (result.test_files, d.x_test, d.y_test)):
        rows = np.fromiter((index[f] for f in files), np.int64, len(files))
        x[rows], y[rows] = xs, ys
    return x, y


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) indices: ``fraction`` of every class held out, the same for the same seed."""
    rng = np.random.default_rng(seed)
    val = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        val.append(rng.permutation(members)[:round(len(members) * fraction)])
    val_idx = np.sort(np.concatenate(val))
    return np.setdiff1d(np.arange(len(y)), val_idx), val_idx


def train_and_score(x, y, split, x_test, y_test, *, arch: str, epochs: int, batch: int, lr: float, seed: int) -> dict:
    import keras

    from workbench.core.architectures import build_model

    keras.utils.set_random_seed(seed)
    train_idx, val_idx = split
    model = build_model(arch, int(y.max()) + 1, input_shape=x.shape[1:])
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(x[train_idx], y[train_idx], batch_size=batch, epochs=epochs, shuffle=True, verbose=0)
    seconds = time.perf_counter() - t0
    val = model.evaluate(x[val_idx], y[val_idx], batch_size=256, verbose=0)[1]
    test = model.evaluate(x_test, y_test, batch_size=256, verbose=0)[1]
    return {"val_acc": float(val), "test_acc": float(test), "train_seconds": round(seconds, 1)}


def tf_decoded(files, shape) -> np.ndarray:
    """The same files as ``keras.utils.image_dataset_from_directory`` decodes them (tf.io.decode_image, RGB)."""
    import tensorflow as tf

    out = np.zeros((len(files),) + shape, np.uint8)
    for i, path in enumerate(files):
        if path is not None:
            out[i] = tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False).numpy()
    return out


def find_jpeg_tree(explicit: str | None, shared: Path, scratch: Path) -> Path:
    """The unpacked ``train/`` tree: given, already unpacked in /tmp, or unpacked now into ``scratch``."""
    if explicit:
        return Path(explicit)
    if UNPACKED_GUESS.is_dir():
        return UNPACKED_GUESS
    with tarfile.open(shared / JPEG_ARCHIVE) as archive:
        archive.extractall(scratch, filter="data")
    return scratch / "train"


def run_parity(pickles: Path, tree: Path, work: Path, *, arch: str = "simple_cnn", epochs: int = 12,
               batch: int = 64, lr: float = 1e-3, seed: int = 0, val_fraction: float = 0.2,
               noise_seeds: int = 2, with_tf: bool = True) -> dict:
    """The whole measurement; ``work`` receives the matched folder. The caller sets WORKBENCH_CACHE and,
    for run-to-run identical training, TensorFlow's op determinism (process-wide, it cannot be undone)."""
    from workbench.core.datasets import load_dataset
    from workbench.core.datasets.folder_import import import_folder

    # The pickles through the workbench's CIFAR loader (A). load_dataset looks for <dir>/cifar-10-batches-py.
    a = load_dataset("cifar10", data_dir=pickles.parent if pickles.name == "cifar-10-batches-py" else pickles)
    x_a, y_a = np.asarray(a.x_train), np.asarray(a.y_train).astype(np.int64)
    class_names = a.class_names

    t0 = time.perf_counter()
    match = match_pickles_to_files(x_a, y_a, tree, class_names)
    match_seconds = time.perf_counter() - t0
    root = work / "matched"
    index = build_matched_folder(root, match["files"], y_a, class_names)

    t0 = time.perf_counter()
    result = import_folder(root, size=32, color="rgb")  # B: the matched folder through the folder import
    import_seconds = time.perf_counter() - t0
    x_b, y_b = folder_in_pickle_order(result, index, len(x_a), class_names)
    matched = np.array([f is not None for f in match["files"]])
    if not matched.all():  # a pickle image with no file at all: compare and train on the matched ones only
        x_a, y_a, x_b, y_b = x_a[matched], y_a[matched], x_b[matched], y_b[matched]

    differs = (x_a != x_b)
    report = {
        "pickle_images": int(len(matched)), "jpeg_files_scanned": match["scanned"],
        "exact_pixel_matches": int(match["exact"].sum()), "unmatched": int((~matched).sum()),
        "nearest_match_max_abs_diff": int(match["max_abs"].max()) if len(match["max_abs"]) else 0,
        "match_seconds": round(match_seconds, 1), "import_seconds": round(import_seconds, 1),
        "import_summary": result.summary(),
        "labels_equal": bool(np.array_equal(y_a, y_b)),
        "images_differing": int(differs.reshape(len(differs), -1).any(axis=1).sum()),
        "pixel_values_differing": int(differs.sum()),
        "max_abs_pixel_diff": int(np.abs(x_a.astype(np.int16) - x_b.astype(np.int16)).max()),
        "arrays_identical": bool(np.array_equal(x_a, x_b)),
    }
    x_tf = tf_decoded([f for f, m in zip(match["files"], matched) if m], x_a.shape[1:])
    tf_differs = x_tf != x_a
    report["tf_decode_images_differing"] = int(tf_differs.reshape(len(x_a), -1).any(axis=1).sum())
    report["tf_decode_pixel_values_differing"] = int(tf_differs.sum())
    report["tf_decode_max_abs_diff"] = int(np.abs(x_tf.astype(np.int16) - x_a.astype(np.int16)).max())
    split = stratified_split(y_a, val_fraction, seed)
    x_test, y_test = np.asarray(a.x_test), np.asarray(a.y_test).astype(np.int64)
    recipe = {"arch": arch, "epochs": epochs, "batch": batch, "lr": lr, "seed": seed, "optimizer": "Adam",
              "train_images": int(len(split[0])), "val_images": int(len(split[1])), "test_images": int(len(y_test))}
    fit = dict(arch=arch, epochs=epochs, batch=batch, lr=lr)
    report["recipe"] = recipe
    report["pickles"] = train_and_score(x_a, y_a, split, x_test, y_test, seed=seed, **fit)
    report["folder"] = train_and_score(x_b, y_b, split, x_test, y_test, seed=seed, **fit)
    if with_tf:  # a decoder that differs from the pickles' pixels: the difference is then a real measurement
        report["tf_decode"] = train_and_score(x_tf, y_a, split, x_test, y_test, seed=seed, **fit)
        tf_val = report["tf_decode"]["val_acc"]
        report["tf_decode_val_diff_pt"] = round(100 * (tf_val - report["pickles"]["val_acc"]), 2)
    report["val_diff_pt"] = round(100 * (report["folder"]["val_acc"] - report["pickles"]["val_acc"]), 2)
    report["test_diff_pt"] = round(100 * (report["folder"]["test_acc"] - report["pickles"]["test_acc"]), 2)
    report["within_tolerance"] = abs(report["val_diff_pt"]) <= TOLERANCE_PT
    # For scale: how far the seed alone moves the pickle run's validation accuracy.
    report["pickles_other_seeds_val_acc"] = {
        seed + k: train_and_score(x_a, y_a, split, x_test, y_test, seed=seed + k, **fit)["val_acc"]
        for k in range(1, noise_seeds + 1)}
    return report


def print_report(r: dict) -> None:
    rc = r["recipe"]
    print(f"match: {r['exact_pixel_matches']:,} of {r['pickle_images']:,} pickle images have a JPEG whose decoded "
          f"pixels are identical ({r['jpeg_files_scanned']:,} files scanned, {r['match_seconds']} s); "
          f"{r['unmatched']} unmatched; worst nearest-match |diff| {r['nearest_match_max_abs_diff']}")
    print(f"folder import: {r['import_summary']} ({r['import_seconds']} s)")
    print(f"arrays: {r['images_differing']:,} images / {r['pixel_values_differing']:,} pixel values differ, max |diff| "
          f"{r['max_abs_pixel_diff']}; labels equal: {r['labels_equal']}; bit-identical: {r['arrays_identical']}")
    print(f"for comparison, tf.io.decode_image (what image_dataset_from_directory uses): "
          f"{r['tf_decode_images_differing']:,} images / {r['tf_decode_pixel_values_differing']:,} pixel values differ "
          f"from the pickles, max |diff| {r['tf_decode_max_abs_diff']}")
    print(f"recipe: {rc['arch']}, Adam lr {rc['lr']}, batch {rc['batch']}, {rc['epochs']} epochs, seed {rc['seed']}, "
          f"{rc['train_images']:,} train / {rc['val_images']:,} val (stratified), test batch {rc['test_images']:,}")
    for name in ("pickles", "folder", "tf_decode"):
        if name not in r:
            continue
        s = r[name]
        print(f"  {name:8s} val top-1 {s['val_acc']:.4f}  test top-1 {s['test_acc']:.4f}  ({s['train_seconds']} s)")
    print(f"difference (folder - pickles): val {r['val_diff_pt']:+.2f} pt, test {r['test_diff_pt']:+.2f} pt; "
          f"within ±{TOLERANCE_PT:g} pt: {r['within_tolerance']}")
    if "tf_decode" in r:
        print(f"tf.io.decode_image pixels - pickles: val {r['tf_decode_val_diff_pt']:+.2f} pt")
    others = ", ".join(f"seed {k}: {v:.4f}" for k, v in r["pickles_other_seeds_val_acc"].items())
    if others:
        print(f"for scale, pickles val top-1 with other seeds: {others}")
    if r["arrays_identical"]:
        print("note: the two arrays are bit-identical, so equal accuracy follows by construction; what this "
              "measures is that the folder import decodes, labels and orders these JPEGs exactly as the "
              "pickles hold them.")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_shared_argument(p)
    p.add_argument("--jpeg-tree", metavar="DIR", help="the unpacked train/ folder of the JPEG archive "
                   f"(default: {UNPACKED_GUESS} if present, else the archive is unpacked into a temporary folder)")
    p.add_argument("--arch", default="simple_cnn", help="the workbench architecture to train (default: simple_cnn)")
    p.add_argument("--epochs", type=int, default=12, help="training epochs for each run (default: 12)")
    p.add_argument("--batch", type=int, default=64, help="batch size (default: 64)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: 0.001)")
    p.add_argument("--seed", type=int, default=0, help="the seed of both runs and of the split (default: 0)")
    p.add_argument("--val-fraction", type=float, default=0.2, help="share of each class held out (default: 0.2)")
    p.add_argument("--noise-seeds", type=int, default=2,
                   help="extra pickle runs with other seeds, for the scale of seed noise (default: 2)")
    p.add_argument("--no-tf-decode", action="store_true",
                   help="skip the extra run on the same files decoded by tf.io.decode_image")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = p.parse_args(argv)
    shared = shared_data_dir(args.shared)
    if shared is None or not (shared / PICKLES).is_dir():
        print(f"skipped: no {PICKLES} in the shared data folder ({shared or 'none found'}); give --shared DIR")
        return 0
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()  # same data, seed and recipe -> the same run
    with tempfile.TemporaryDirectory(prefix="parity-") as tmp:
        work = Path(tmp)
        os.environ["WORKBENCH_CACHE"] = str(work / "cache")  # fresh import, the user's cache untouched
        tree = find_jpeg_tree(args.jpeg_tree, shared, work)
        report = run_parity(shared / PICKLES, tree, work, arch=args.arch, epochs=args.epochs, batch=args.batch,
                            lr=args.lr, seed=args.seed, val_fraction=args.val_fraction, noise_seeds=args.noise_seeds,
                            with_tf=not args.no_tf_decode)
    report["shared"], report["jpeg_tree"] = str(shared), str(tree)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
