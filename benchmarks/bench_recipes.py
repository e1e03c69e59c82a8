"""Each recipe (and each report network with its best recipe) trained on real CIFAR-10, against the
network's compute ceiling: the README's recipe table. Runs unchanged on a CPU or a GPU.

Data: the CIFAR-10 training JPEG tree (``../shared/data/cifar10-train-jpeg/``: the folder, or the
``.tar.gz`` beside it, extracted once into ``--work``), imported with the workbench's folder import. All
50,000 training images are pooled; ``--holdout`` of them (seeded) are the run's validation split, never
trained on: the figure is top-1 on them, with the recipe's test-time views (and without, beside it), so
"held-out top-1" is a validation figure. The run's own test set is the shared sample's 2,000 real CIFAR-10
test images (the JPEG-passed pixels; the full 10,000 are not on these machines), reported beside it.
Per-epoch validation on the held-out images runs inside the budget, as a user's run would.

Ceiling: the same network, compiled the same way, fed one constant in-memory batch for as many steps as
one epoch of the run (20 to 40; tracing and fit's start-up excluded), in the same process: what the compute alone
allows. ``pipeline share`` = run images/s / ceiling images/s (1.0 = the input pipeline costs nothing).

    python benchmarks/bench_recipes.py --minutes 20 --recipes report,fast         # the 20-minute CPU figures
    python benchmarks/bench_recipes.py --minutes 1 --recipes fast,report,best --data-on-device  # a GPU (<= 60 s)
    python benchmarks/bench_recipes.py --networks all --epochs 30                 # every report net, best recipe
    python benchmarks/bench_recipes.py --recipes "" --networks all_conv:report_tuned  # a net, another recipe
    python benchmarks/bench_recipes.py --quick                                    # < 2 minutes, built-in data

Prints a Markdown table (recipe, network, held-out top-1, test top-1, epochs trained — fractional when a budget
ends inside an epoch —, training wall time, images/s, ceiling, share, machine) and writes every row as JSON to
``--json FILE``; ``--keep DIR`` keeps each run's folder (the window's Runs tab plots it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from shared_data import add_shared_argument, shared_data_dir  # noqa: E402

QUICK_IMAGES = 160  # --quick: training images per run (built-in set), enough for two batches per epoch
QUICK_HOLDOUT = 64
CEILING_WARMUP_STEPS = 3  # constant-batch steps left out of the ceiling's timing (tracing, first allocations)
CEILING_MIN_STEPS = 20  # fewer timed steps than this make the ceiling a noisy figure on a shared machine
CEILING_MAX_STEPS = 40  # more add minutes on a CPU (seconds a step) and no precision


def load_pool(args: argparse.Namespace):
    """(info, images, labels): every training image of the chosen data, as one pool to split."""
    from workbench.core.datasets import load_dataset

    if args.quick:
        data = load_dataset("builtin")
        return data.info, data.x_train, data.y_train
    from workbench.core.datasets import DATASETS
    from workbench.core.datasets.folder_import import import_folder

    folder = Path(args.folder) if args.folder else _jpeg_tree(args)
    result = import_folder(folder, size=32, color="rgb")
    d = result.dataset
    images = np.concatenate([d.x_train, d.x_test]) if len(d.x_test) else np.asarray(d.x_train)
    labels = np.concatenate([d.y_train, d.y_test]) if len(d.y_test) else np.asarray(d.y_train)
    if d.num_classes != 10:
        sys.exit(f"{folder} has {d.num_classes} classes, not CIFAR-10's 10; give the CIFAR-10 JPEG tree.")
    # The folder's class names are CIFAR-10's: train under CIFAR-10's description (mirror-safe, 10 classes).
    return DATASETS["cifar10"], images, labels


def _jpeg_tree(args: argparse.Namespace) -> Path:
    shared = shared_data_dir(args.shared)
    if shared is None:
        sys.exit("No shared data folder: give --folder (a CIFAR-10 class-folder tree) or --shared DIR.")
    base = shared / "cifar10-train-jpeg"
    archive = base / "cifar10-train-jpeg.tar.gz"
    trees = [p for p in base.iterdir() if p.is_dir()] if base.is_dir() else []
    if trees:
        return trees[0] if len(trees) == 1 else base
    if not archive.is_file():
        sys.exit(f"Neither a class-folder tree nor {archive} is there; give --folder.")
    work = Path(args.work or Path(tempfile.gettempdir()) / "workbench-bench-cifar10")
    marker = work / ".extracted"
    if not marker.exists():
        print(f"extracting {archive} into {work} (once)…", file=sys.stderr, flush=True)
        work.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        marker.write_text("ok\n")
    dirs = [p for p in work.iterdir() if p.is_dir()]
    return dirs[0] if len(dirs) == 1 else work


def split_pool(info, images, labels, holdout: int, seed: int, limit: int | None, test=None):
    """A Dataset of the pool (capped at ``limit`` + ``holdout`` seeded images) whose validation split, taken by
    the engine with ``val_split`` = ``holdout`` / pool, is the held-out set; its test split is ``test`` (the
    sample's real test images) or, without it, the held-out images again."""
    from workbench.core.datasets import Dataset

    order = np.random.default_rng(seed).permutation(len(images))  # folder imports are sorted by class
    kept = np.sort(order[:holdout + limit] if limit else order)
    x, y = images[kept], labels[kept]
    if test is None:
        from workbench.core.datasets import train_val_split

        _, held = train_val_split(len(x), holdout / len(x), seed)
        test = (x[held], y[held])
    return Dataset(info, x, y, test[0], test[1])


def real_test_images(args: argparse.Namespace):
    """(images, labels) of the shared sample's 2,000 real CIFAR-10 test images, or None without them."""
    shared = None if args.quick else shared_data_dir(args.shared)
    folder = shared / "cifar10-sample" if shared is not None else None
    if folder is None or not (folder / "cifar-10-batches-py" / "test_batch").is_file():
        return None
    from workbench.core.datasets import load_dataset

    sample = load_dataset("cifar10", str(folder))
    return np.asarray(sample.x_test), np.asarray(sample.y_test)


def held_out_top1(model_path: str, data, config) -> tuple[float, float]:
    """(top-1 of one view, top-1 with the recipe's test-time views) on the run's validation split: the
    held-out images, never trained on."""
    from workbench.core.evaluation import evaluate, flip_for
    from workbench.core.modelio import load_any_model
    from workbench.core.training.pipeline import split_indices

    model = load_any_model(model_path)
    _, val_idx = split_indices(len(data.x_train), config.val_split, config.seed, config.limit)
    x, y, names = data.x_train[val_idx], data.y_train[val_idx], list(data.class_names)
    plain = evaluate(model, x, y, names).top1
    views = evaluate(model, x, y, names, flip=flip_for(model, mirror_safe=True)).top1
    return plain, views


def plan(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """(recipe, network or None for the recipe's own) pairs to run."""
    from workbench.core.architectures import REPORT_ARCHITECTURES
    from workbench.core.training.recipes import RECIPES, best_recipe_for

    runs: list[tuple[str, str | None]] = []
    for name in [r for r in args.recipes.split(",") if r]:
        if name not in RECIPES:
            sys.exit(f"Unknown recipe {name!r}; choose from {', '.join(RECIPES)}.")
        if RECIPES[name].settings.get("arch"):
            runs.append((name, None))
    nets = REPORT_ARCHITECTURES if args.networks == "all" else [n for n in args.networks.split(",") if n]
    for entry in nets:
        net, _, recipe = entry.partition(":")  # all_conv:report_tuned compares a recipe with the best one
        if recipe and recipe not in RECIPES:
            sys.exit(f"Unknown recipe {recipe!r} for {net}; choose from {', '.join(RECIPES)}.")
        runs.append((recipe or best_recipe_for(net), net))
    return runs


def run_config(args: argparse.Namespace, recipe: str, arch: str | None, folder: Path):
    from workbench.core.sweeps.spec import with_settings
    from workbench.core.training.config import BUDGET_EPOCH_CAP
    from workbench.core.training.recipes import apply_recipe

    changes: dict = {"dataset": "cifar10", "val_split": args.val_split, "seed": args.seed, "run_dir": str(folder)}
    if args.data_on_device:
        changes["data_on_device"] = True
    if arch:
        changes["arch"] = arch
    if args.minutes:
        changes.update(minutes=args.minutes, epochs=args.epochs or BUDGET_EPOCH_CAP)
    elif args.epochs:
        changes["epochs"] = args.epochs
    if args.batch_size:
        changes["batch_size"] = args.batch_size
    if args.quick:
        changes.update(epochs=1, batch_size=32, minutes=None)
    return with_settings(apply_recipe(recipe, changes), args.set or [])


def ceiling(config, image_shape, num_classes: int, steps: int) -> float:
    """Images/s of the same network and compile settings on one constant in-memory batch (no input pipeline)."""
    import keras
    import tensorflow as tf

    from workbench.core.architectures import build_model
    from workbench.core.training.devices import configure_devices
    from workbench.core.training.optim import make_loss, make_optimizer

    setup = configure_devices(config.mixed_precision)
    previous = keras.config.dtype_policy()
    if setup.mixed_precision:
        keras.config.set_dtype_policy(setup.precision)  # the run's own precision: float16 GPU, bfloat16 CPU
    try:
        with setup.strategy.scope():
            model = build_model(config.arch, num_classes, input_shape=image_shape, **config.arch_options)
            model.compile(optimizer=make_optimizer(config, max(1, steps)), loss=make_loss(config, num_classes),
                          jit_compile=config.xla, steps_per_execution=config.steps_per_execution)
    finally:
        keras.config.set_dtype_policy(previous)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.integers(0, 256, (config.batch_size, *image_shape), dtype=np.uint8))
    y = tf.constant(rng.integers(0, num_classes, config.batch_size).astype(np.int32))
    batches = tf.data.Dataset.from_tensors((x, y)).repeat()
    stamps: list[float] = []
    clock = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: stamps.append(time.perf_counter()))
    steps = max(CEILING_MIN_STEPS, min(CEILING_MAX_STEPS, steps))
    # Timed from the end of the warm-up steps to the last step: fit's own start-up is not compute.
    model.fit(batches, steps_per_epoch=CEILING_WARMUP_STEPS + steps, epochs=1, verbose=0, callbacks=[clock],
              shuffle=False)  # one repeated batch: nothing to shuffle, and Keras warns on a Dataset
    return steps * config.batch_size / (stamps[-1] - stamps[CEILING_WARMUP_STEPS - 1])


def bench_one(args, recipe: str, arch: str | None, data, machine: str) -> dict:
    import workbench.core.datasets as datasets
    from workbench.core.training import EpochEnded, TrainingFinished, train

    with tempfile.TemporaryDirectory(prefix="bench-recipes-") as tmp:
        keep = Path(args.keep) / f"{recipe}-{arch or 'own'}" if args.keep else None
        config = run_config(args, recipe, arch, keep or Path(tmp) / "run")
        epochs: list = []
        original = datasets.load_dataset
        datasets.load_dataset = lambda *a, **k: data  # the engine loads by id: hand it the pooled split
        t0 = time.monotonic()
        try:
            final = train(config, lambda e: epochs.append(e) if isinstance(e, EpochEnded) else None)
        finally:
            datasets.load_dataset = original
        total = time.monotonic() - t0
        if not isinstance(final, TrainingFinished):
            return {"recipe": recipe, "arch": config.arch, "error": getattr(final, "message", type(final).__name__)}
        plain, held = held_out_top1(final.model_path, data, config)
    seen = sum(e.images or 0 for e in epochs)  # a budget ends inside an epoch: count images, not epochs
    train_images = len(data.x_train) - round(len(data.x_train) * config.val_split)
    trained = seen / train_images
    print(f"{recipe} / {config.arch}: held-out top-1 {100 * held:.2f} % ({100 * plain:.2f} % without test-time "
          f"views), test top-1 {100 * (final.test_top1 or 0):.2f} % on {len(data.x_test):,} images, after {trained:.1f} epochs, "
          f"{sum(e.seconds for e in epochs) / 60:.1f} min of training; measuring the ceiling…", flush=True)
    timed = epochs[1:] or epochs  # the first epoch traces the graph
    ips = statistics.median(e.images_per_sec for e in timed)
    steps = -(-len(data.x_train) // config.batch_size)
    ceil = ceiling(config, tuple(data.image_shape), data.num_classes, steps)
    from workbench.core.training.devices import configure_devices

    precision = configure_devices(config.mixed_precision).precision
    return {
        "recipe": recipe, "arch": config.arch, "holdout_top1": held, "holdout_top1_one_view": plain,
        "test_top1": final.test_top1, "test_images": len(data.x_test), "tta_flip": config.tta_flip,
        "tta_shift": config.tta_shift, "run_dir": str(keep) if keep else None,
        "epochs": len(epochs), "epochs_trained": trained,
        "train_seconds": sum(e.seconds for e in epochs), "run_seconds": total,
        "images_per_sec": ips, "ceiling_images_per_sec": ceil, "pipeline_share": ips / ceil,
        "train_images": train_images,
        "holdout_images": round(len(data.x_train) * config.val_split), "minutes": config.minutes,
        "batch_size": config.batch_size, "machine": machine, "precision": precision, "settings": args.set or [],
    }


def machine_text() -> str:
    from workbench.core.training.devices import probe_devices

    return f"{probe_devices().description}, {_cpu_model() or platform.processor() or platform.machine()}"


def _cpu_model() -> str:
    """The CPU's model name (Linux), e.g. "AMD EPYC 9R14": what a CPU figure was measured on."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def table(rows: list[dict]) -> str:
    lines = ["| recipe | network | held-out top-1 | test top-1 | epochs | training time | images/s | ceiling images/s | "
             "pipeline share | machine |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        recipe = " ".join([r["recipe"], *r.get("settings", [])])  # an ablation names what it changed
        if "error" in r:
            lines.append(f"| {recipe} | {r['arch']} | failed: {r['error']} | | | | | | | |")
            continue
        lines.append(
            f"| {recipe} | {r['arch']} | {100 * r['holdout_top1']:.2f} % | {100 * (r['test_top1'] or 0):.2f} % "
            f"({r['test_images']:,}) | {r.get('epochs_trained', r['epochs']):.1f} | "
            f"{r['train_seconds'] / 60:.1f} min | {r['images_per_sec']:,.0f} | {r['ceiling_images_per_sec']:,.0f} | "
            f"{r['pipeline_share']:.2f} | {r['machine']}, {r.get('precision', 'float32')} |")
    return "\n".join(lines)


def _check_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a bad --set before minutes go into loading the images."""
    from workbench.core.sweeps.spec import SweepSpecError

    trial = argparse.Namespace(**{**vars(args), "val_split": 0.1})  # the split is known once the images are
    try:
        for recipe, arch in plan(trial):
            run_config(trial, recipe, arch, Path(tempfile.gettempdir()))
    except SweepSpecError as exc:
        parser.error(str(exc))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_shared_argument(parser)
    parser.add_argument("--folder", help="a CIFAR-10 class-folder tree (default: the shared JPEG tree)")
    parser.add_argument("--work", help="where the shared .tar.gz is extracted once (default: the temp folder)")
    parser.add_argument("--recipes", default="report,fast,best", help="comma-separated recipes to run")
    parser.add_argument("--networks", default="", help="report networks to run with their best recipe "
                        "(comma-separated, or 'all'); NET:RECIPE runs one with another recipe")
    parser.add_argument("--minutes", type=float, help="time budget per run (default: each recipe's epochs)")
    parser.add_argument("--epochs", type=int, help="epochs per run (with --minutes: the cap)")
    parser.add_argument("--batch-size", type=int, help="override every recipe's batch size")
    parser.add_argument("--holdout", type=int, default=5000, help="training images held out for the figure")
    parser.add_argument("--limit", type=int, help="cap on training images (quick tries)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hold-out split and the runs")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run in < 2 minutes: built-in data, one tiny epoch per recipe (and simple_cnn "
                             "with its best recipe unless --networks says otherwise)")
    parser.add_argument("--json", help="write every row as JSON to this file")
    parser.add_argument("--keep", metavar="DIR", help="keep each run's folder under DIR (for the window's plots)")
    parser.add_argument("--data-on-device", action="store_true",
                        help="training images resident on the accelerator, augmented there (the GPU option)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE",
                        help="change one setting of every run (repeatable; option.NAME for a network option): an "
                             "ablation, e.g. --recipes fast --set flip=random")
    args = parser.parse_args(argv)
    _check_settings(parser, args)
    if args.quick:
        args.networks = args.networks or "simple_cnn"  # one report network keeps it under 2 minutes
    info, images, labels = load_pool(args)
    holdout = QUICK_HOLDOUT if args.quick else args.holdout
    limit = QUICK_IMAGES if args.quick else args.limit
    data = split_pool(info, images, labels, holdout, args.seed, limit, real_test_images(args))
    args.val_split = holdout / len(data.x_train)
    machine = machine_text()
    test_words = "the sample's real CIFAR-10 test images" if len(data.x_test) != holdout else "the held-out images again"
    print(f"{len(data.x_train) - holdout:,} training images, {holdout:,} held out (validation, never trained on); "
          f"test: {len(data.x_test):,} {test_words}; {machine}", flush=True)
    rows = []
    for recipe, arch in plan(args):
        row = bench_one(args, recipe, arch, data, machine)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
