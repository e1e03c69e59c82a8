"""Loads the foreign models in the shared data folder's models/ and scores them on its real CIFAR-10 sample.

Not a test: the shared folder is for measuring by hand. Skips cleanly (exit 0) when it is absent.
Run:  .venv/bin/python benchmarks/check_shared_models.py [--shared DIR]   (default: ../shared/data beside the repository)
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

# Accuracy the data README lists for the full 10,000-image test set (same JPEG-passed pixels).
LISTED = {
    "c10_tfkeras2.12_arnavagrawal2701.h5": 0.7313,
    "c10_keras3.4.1_suheylozdemir.h5": 0.6824,
    "c10_tfkeras2.1.6-tf_bjmedina.h5": 0.6310,
}


def read_test_batch(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    from workbench.core.datasets.safe_pickle import load_pickle

    batch = load_pickle(folder / "test_batch")
    data = np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(data), np.asarray(batch[b"labels"], np.int64)


def _vehicle_rate(probs: np.ndarray, y: np.ndarray) -> str:
    # With sound weights and the right preprocessing, cars/trucks land in vehicles_1/2 far above chance (10 %).
    from workbench.core.datasets import DATASETS
    from workbench.core.evaluation import CIFAR100_FINE_TO_COARSE

    coarse = DATASETS["cifar100-coarse"].class_names
    superclass = np.asarray(CIFAR100_FINE_TO_COARSE)[probs.argmax(axis=1)]
    vehicle = np.isin(superclass, [coarse.index("vehicles_1"), coarse.index("vehicles_2")])
    cars = np.isin(y, [1, 9])
    return f"{vehicle[cars].mean():.3f} (other CIFAR-10 classes: {vehicle[~cars].mean():.3f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_shared_argument(parser)
    args = parser.parse_args(argv)
    root = shared_data_dir(args.shared)
    if root is None:
        print("skipped: no shared data folder (give --shared DIR or set WORKBENCH_SHARED_DATA)")
        return 0
    models = root / "models"
    sample = root / "cifar10-sample" / "cifar-10-batches-py"
    if not models.is_dir() or not (sample / "test_batch").is_file():
        print(f"skipped: {root} holds no shared models and CIFAR-10 sample")
        return 0
    from workbench.core.evaluation import evaluate
    from workbench.core.modelio.loaded_model import ModelLoadError
    from workbench.core.modelio.open import load_any_model, load_weights_into

    x, y = read_test_batch(sample)
    print(f"CIFAR-10 sample: {len(x)} test images")
    for path in sorted(models.glob("c10_*.h5")):
        start = time.perf_counter()
        try:
            loaded = load_any_model(path)
        except ModelLoadError as exc:
            print(f"{path.name}: NOT LOADED: {exc}")
            continue
        took = time.perf_counter() - start
        result = evaluate(loaded, x, y)
        listed = LISTED.get(path.name)
        print(f"{path.name}: top-1 {result.top1:.4f} top-5 {result.top5:.4f} (listed {listed}) "
              f"logits={loaded.outputs_logits} preprocessing={loaded.preprocessing.kind} "
              f"load {took:.1f}s, evaluate {result.seconds:.1f}s")
        for note in loaded.notes:
            print(f"    {note}")
    for weights in sorted(models.glob("*weights_only.h5")):
        arch = weights.with_name(weights.name.replace("weights_only.h5", "architecture.json"))
        try:
            load_any_model(weights)
        except ModelLoadError as exc:
            print(f"{weights.name}: load_any_model says: {exc}")
        if not arch.is_file():
            print(f"{weights.name}: no architecture JSON beside it")
            continue
        try:
            loaded = load_weights_into(weights, arch, preprocessing="cifar100_zscore")
        except ModelLoadError as exc:
            print(f"{weights.name}: NOT LOADED into {arch.name}: {exc}")
            continue
        probs = loaded.predict_proba(x)
        print(f"{weights.name}: loaded into {arch.name}: {loaded.num_classes} classes ({loaded.dataset_id}), "
              f"preprocessing '{loaded.preprocessing.describe()}', outputs "
              f"{'logits' if loaded.outputs_logits else 'probabilities'}; rows sum to "
              f"{probs.sum(axis=1).mean():.4f}; no CIFAR-100 data here to score it")
        if loaded.num_classes == 100:
            print(f"    sanity check: CIFAR-10 cars and trucks put in a CIFAR-100 vehicle superclass: "
                  f"{_vehicle_rate(probs, y)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
