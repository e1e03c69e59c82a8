"""Throughput of the training engine (events, stop flag, history, checkpoints) against plain model.fit.

Same network, same random uint8 32x32x3 data, same batch size; runs interleaved so machine load
hits both alike. Each epoch after the first (which traces the graph) is timed from one epoch end
to the next, so the engine pays for everything it does per epoch (history row, checkpoint, events).
Two clocks: wall time, and the process's CPU time (steadier on a shared machine). Prints the
medians and their ratios (target: engine >= 0.97 x plain fit).

    python benchmarks/bench_training.py [--images 8192] [--epochs 4] [--repeats 3] [--arch simple_cnn]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import workbench.core.datasets as datasets  # noqa: E402
from workbench.core.datasets import DATASETS, Dataset  # noqa: E402
from workbench.core.training import EpochEnded, TrainConfig, TrainingFinished, train  # noqa: E402


HOOK_TIME: dict[str, list[float]] = {}  # "Class.method" -> [seconds, calls]


def time_engine_hooks() -> None:
    """Wrap the engine's per-batch and per-epoch callback methods with a timer (their own cost)."""
    from workbench.core.training.callbacks.batch_monitor import BatchMonitor
    from workbench.core.training.callbacks.epoch_recorder import EpochRecorder
    from workbench.core.training.callbacks.tensorboard import EpochScalars

    for cls, name in ((BatchMonitor, "on_train_batch_end"), (EpochRecorder, "on_epoch_end"),
                      (EpochScalars, "on_epoch_end")):
        original = getattr(cls, name)
        key = HOOK_TIME.setdefault(f"{cls.__name__}.{name}", [0.0, 0])

        def timed(self, *args, _original=original, _key=key, **kwargs):
            t0 = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                _key[0] += time.perf_counter() - t0
                _key[1] += 1

        setattr(cls, name, timed)


def random_dataset(n: int) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, n).astype(np.int64)
    return Dataset(DATASETS["cifar10"], x, y, x[:256], y[:256])


class EpochClock:
    """Images per second between consecutive epoch ends, by wall clock and by process CPU time."""

    def __init__(self, images: int) -> None:
        self.images = images
        self.marks: list[tuple[float, float]] = []

    def mark(self) -> None:
        self.marks.append((time.perf_counter(), time.process_time()))

    def rates(self) -> tuple[list[float], list[float]]:
        pairs = list(zip(self.marks, self.marks[1:]))
        return ([self.images / (b[0] - a[0]) for a, b in pairs], [self.images / (b[1] - a[1]) for a, b in pairs])


def plain_fit(data: Dataset, args) -> tuple[list[float], list[float]]:
    """model.fit on the numpy arrays with only an epoch timer (no batch hooks, Keras' async path)."""
    import keras

    from workbench.core.architectures import build_model
    from workbench.core.metrics import TopKAccuracy

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = build_model(args.arch, 10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[TopKAccuracy(k=1, name="top1"), TopKAccuracy(k=5, name="top5")])
    clock = EpochClock(len(data.x_train))

    class EpochTimer(keras.callbacks.Callback):  # epoch hooks only: fit keeps its batch fast path
        def on_epoch_end(self, epoch, logs=None):
            clock.mark()

    model.fit(data.x_train, data.y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=0,
              callbacks=[EpochTimer()])
    return clock.rates()


def engine_fit(data: Dataset, args, root: str) -> tuple[list[float], list[float]]:
    """The full engine with an event receiver attached (it sees every BatchProgress)."""
    clock = EpochClock(len(data.x_train))
    received = []

    def on_event(event):
        received.append(event)
        if isinstance(event, EpochEnded):
            clock.mark()

    datasets.load_dataset = lambda *a, **k: data  # the engine loads by id; hand it the same arrays
    config = TrainConfig(dataset="cifar10", arch=args.arch, epochs=args.epochs, batch_size=args.batch_size,
                         val_split=0.0, test_limit=0, runs_root=root)
    final = train(config, on_event)
    if not isinstance(final, TrainingFinished):
        raise SystemExit(f"engine run failed: {final}")
    return clock.rates()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--arch", default="simple_cnn")
    args = parser.parse_args()
    data = random_dataset(args.images)
    time_engine_hooks()
    original = datasets.load_dataset
    results = {"plain": ([], []), "engine": ([], [])}
    with tempfile.TemporaryDirectory() as root:
        try:
            for r in range(args.repeats):
                # Alternate which goes first so warm-up and load drift favour neither.
                order = ("plain", "engine") if r % 2 == 0 else ("engine", "plain")
                for which in order:
                    wall, cpu = plain_fit(data, args) if which == "plain" else engine_fit(data, args, root)
                    results[which][0].extend(wall)
                    results[which][1].extend(cpu)
                    print(f"repeat {r + 1} {which:6s}: wall " + " ".join(f"{v:7.0f}" for v in wall)
                          + " | cpu " + " ".join(f"{v:7.0f}" for v in cpu) + " images/s", flush=True)
        finally:
            datasets.load_dataset = original
    import tensorflow as tf

    device = "GPU" if tf.config.list_physical_devices("GPU") else f"CPU ({os.cpu_count()} cores)"
    print(f"\n{args.arch}, {args.images} images, batch {args.batch_size}, {args.epochs} epochs x {args.repeats} "
          f"repeats on {device}, TensorFlow {tf.__version__}")
    for i, clock in enumerate(("wall-clock", "CPU-time")):
        p, e = statistics.median(results["plain"][i]), statistics.median(results["engine"][i])
        print(f"{clock:10s}: plain model.fit median {p:7.0f} images/s, engine train() median {e:7.0f} images/s, "
              f"ratio {e / p:.3f} (target >= 0.97)")
    epoch_seconds = args.images / statistics.median(results["engine"][0])
    print(f"engine callbacks' own time (wall), against a median epoch of {epoch_seconds:.2f} s:")
    for key, (seconds, calls) in HOOK_TIME.items():
        per = seconds / max(calls, 1)
        print(f"  {key:34s} {calls:5d} calls, {per * 1000:7.3f} ms per call")
    per_epoch = sum(sec for sec, _ in HOOK_TIME.values()) / max(args.epochs * args.repeats, 1)
    print(f"  total per epoch {per_epoch * 1000:.1f} ms = {per_epoch / epoch_seconds:.2%} of the epoch")


if __name__ == "__main__":
    main()
