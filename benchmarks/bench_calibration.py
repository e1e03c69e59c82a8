"""What calibration adds to `evaluate`: the same model on the same images, evaluated uncalibrated and with
a stored temperature, paired (alternating A, B, A, B … in one process), plus the calibration-only steps
timed alone (the ECE and its bins, and the temperature applied to every probability).

Target (issue 16): calibration adds <= 10 % to evaluate's time. Reported:
  - paired ratio  median(B) / median(A), B = with a temperature, A = without one (both compute the ECE);
  - added share   (ECE + bins time + temperature time) / (median(A) - ECE + bins time), i.e. everything
    calibration does against an evaluate that does none of it.

    python benchmarks/bench_calibration.py [--model M.h5 --dataset cifar10 --data-dir D] [--limit N] [--repeats 5]

Without --model a simple_cnn is built untrained (10 classes) and timed on the built-in shapes. The model
file is never written: the temperature is set in memory (LoadedModel.with_temperature).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _model(args):
    from workbench.core.architectures import build_model
    from workbench.core.datasets import load_dataset
    from workbench.core.modelio import LoadedModel, load_any_model

    data = load_dataset(args.dataset, args.data_dir)
    if args.model:
        loaded = load_any_model(args.model)
    else:
        loaded = LoadedModel.from_keras(build_model("simple_cnn", data.num_classes), data.class_names)
    return loaded, data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--dataset", default="builtin")
    parser.add_argument("--data-dir")
    parser.add_argument("--limit", type=int, default=None, help="test images (default: the whole split)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--flip", action="store_true", help="evaluate with test-time flip (as a fast run's model does)")
    args = parser.parse_args(argv)

    import numpy as np

    from workbench.core.calibration import StoredTemperature, apply_temperature, reliability
    from workbench.core.evaluation import evaluate

    loaded, data = _model(args)
    x = np.ascontiguousarray(data.x_test[: args.limit])
    y = np.asarray(data.y_test[: args.limit])
    raw = loaded.without_temperature()
    calibrated = raw.with_temperature(StoredTemperature(0.54))
    # One cache of compiled graphs for both: with_temperature copies the dataclass, whose cache starts empty.
    object.__setattr__(calibrated, "_cache", raw._cache)
    for m in (raw, calibrated):  # warm-up: graph tracing and first-touch memory out of the timings
        evaluate(m, x[:512], y[:512], flip=args.flip)
    a_times, b_times = [], []
    for _ in range(args.repeats):
        for model, times in ((raw, a_times), (calibrated, b_times)):
            start = time.perf_counter()
            result = evaluate(model, x, y, flip=args.flip)
            times.append(time.perf_counter() - start)
    probs = result.probabilities
    rel_t, temp_t = [], []
    for _ in range(max(5, args.repeats)):
        start = time.perf_counter()
        reliability(probs, y)
        rel_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        apply_temperature(probs, 0.54)
        temp_t.append(time.perf_counter() - start)
    a, b = statistics.median(a_times), statistics.median(b_times)
    rel, temp = statistics.median(rel_t), statistics.median(temp_t)
    base = a - rel
    load = os.getloadavg()[0]
    print(f"model {args.model or 'simple_cnn (untrained)'} on {args.dataset} test: {len(y):,} images, "
          f"{probs.shape[1]} classes, flip {'on' if args.flip else 'off'}; load average {load:.2f}")
    print(f"evaluate without a temperature (A): median {a:.3f} s of {[round(t, 3) for t in a_times]}")
    print(f"evaluate with a temperature    (B): median {b:.3f} s of {[round(t, 3) for t in b_times]}")
    print(f"paired ratio B/A: {b / a:.3f}")
    print(f"ECE + bins {rel * 1000:.2f} ms, temperature {temp * 1000:.2f} ms: calibration adds "
          f"{100 * (rel + temp) / base:.2f} % to evaluate's {base:.3f} s (target <= 10 %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
