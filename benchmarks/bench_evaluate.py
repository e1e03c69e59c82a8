"""Throughput of workbench.core.evaluation.evaluate versus a plain batched model.predict.

Evaluates 10,000 images (the real CIFAR-10 sample tiled up, else random uint8) with one of our
architectures and reports images/second for both and their ratio (target >= 0.9). Both get the same
model, data and batch size; both are warmed up first and the best of a few runs counts.
Run:  .venv/bin/python benchmarks/bench_evaluate.py [--arch simple_cnn] [--n 10000] [--batch 256] [--shared DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from shared_data import add_shared_argument, shared_data_dir  # noqa: E402


def test_images(n: int, shared: Path | None) -> tuple[np.ndarray, np.ndarray, str]:
    sample = shared / "cifar10-sample" / "cifar-10-batches-py" / "test_batch" if shared else None
    if sample is not None and sample.is_file():
        from workbench.core.datasets.safe_pickle import load_pickle

        batch = load_pickle(sample)
        x = np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        y = np.asarray(batch[b"labels"], np.int64)
        reps = -(-n // len(x))
        return np.ascontiguousarray(np.tile(x, (reps, 1, 1, 1))[:n]), np.tile(y, reps)[:n], "CIFAR-10 sample (tiled)"
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n), "random uint8"


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="simple_cnn")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    add_shared_argument(parser)
    args = parser.parse_args(argv)

    from workbench.core.architectures import build_model
    from workbench.core.datasets import DATASETS
    from workbench.core.evaluation import evaluate
    from workbench.core.modelio.loaded_model import LoadedModel

    x, y, source = test_images(args.n, shared_data_dir(args.shared))
    model = build_model(args.arch, 10)
    loaded = LoadedModel.from_keras(model, DATASETS["cifar10"].class_names)
    # Warm-up: both paths compile their graphs once before timing.
    evaluate(loaded, x[: args.batch * 2], y[: args.batch * 2], batch_size=args.batch)
    model.predict(x[: args.batch * 2], batch_size=args.batch, verbose=0)

    ours, plain = float("inf"), float("inf")
    for _ in range(args.repeats):  # interleaved, so load from other processes hits both alike
        ours = min(ours, best_of(lambda: evaluate(loaded, x, y, batch_size=args.batch), 1))
        plain = min(plain, best_of(lambda: model.predict(x, batch_size=args.batch, verbose=0), 1))
    ours_ips, plain_ips = len(x) / ours, len(x) / plain
    print(f"data: {len(x)} images, {source}; model {args.arch}; batch {args.batch}")
    print(f"evaluate():      {ours:7.3f} s  {ours_ips:9.0f} images/s (includes confusion, top-k, per-class)")
    print(f"model.predict(): {plain:7.3f} s  {plain_ips:9.0f} images/s")
    print(f"ratio evaluate/predict throughput: {ours_ips / plain_ips:.2f} (target >= 0.9)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
