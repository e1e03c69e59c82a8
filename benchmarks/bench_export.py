"""Export figures (issue 17): a ResNet-20 exported to each format (seconds, target <= 30 s), a trained model's
exports checked on real test images (argmax agreement with Keras, target >= 0.99), latency per 32×32 image
of LiteRT and ONNX Runtime beside Keras', and int8 LiteRT's top-1 drop on the whole test split (target <= 1 pt).

    python benchmarks/bench_export.py [--model M.h5 --dataset cifar10 --data-dir D] [--check 200] [--no-int8]

Without --model only the ResNet-20 (untrained, 10 classes) part runs, on the built-in shapes. Exports go to a
temporary folder that is removed afterwards. Latency: one image per call after a warm-up, LiteRT and ONNX
Runtime on one thread, Keras (LoadedModel.predict_proba, a direct model call) on TensorFlow's own threads.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NAMES = {"savedmodel": "net", "litert": "net.tflite", "onnx": "net.onnx"}


def _row(label: str, fmt: str, wall: float, report) -> str:
    c = report.check
    return (f"{label:<10} {fmt:<10} export {wall:6.1f} s (convert {report.seconds:5.1f} s)  "
            f"{report.size_bytes / 1e6:6.2f} MB  agreement {c.agreement:.3f} on {c.images}  max|Δp| {c.max_abs_diff:.2g}  "
            f"{c.latency_ms:6.2f} ms/image (Keras {c.keras_latency_ms:6.2f})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--dataset", default="builtin")
    parser.add_argument("--data-dir")
    parser.add_argument("--check", type=int, default=200, help="test images for each export's check")
    parser.add_argument("--no-int8", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np

    from workbench.core.architectures import build_model
    from workbench.core.datasets import load_dataset
    from workbench.core.export import FORMATS, Runner, export_model
    from workbench.core.modelio import LoadedModel, open_model

    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    data = load_dataset(args.dataset, args.data_dir)
    x, y = np.asarray(data.x_test[: args.check]), np.asarray(data.y_test[: args.check])
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    resnet = LoadedModel.from_keras(build_model("resnet20", data.num_classes), data.class_names)
    for fmt in FORMATS:
        start = time.perf_counter()
        report = export_model(resnet, fmt, work / f"resnet20-{NAMES[fmt]}", check_images=x, check_labels=y)
        print(_row("resnet20", fmt, time.perf_counter() - start, report))
    if not args.model:
        return 0
    loaded = open_model(args.model).loaded
    for fmt in FORMATS:
        start = time.perf_counter()
        report = export_model(loaded, fmt, work / f"trained-{NAMES[fmt]}", check_images=x, check_labels=y)
        print(_row("trained", fmt, time.perf_counter() - start, report))
    if args.no_int8:
        return 0
    idx = np.linspace(0, len(data.x_train) - 1, 200).astype(int)
    start = time.perf_counter()
    report = export_model(loaded, "litert", work / "int8.tflite", quantize="int8",
                          calibration_images=np.asarray(data.x_train[idx]), check_images=x, check_labels=y)
    print(_row("int8", "litert", time.perf_counter() - start, report))
    xs, ys = np.asarray(data.x_test), np.asarray(data.y_test)
    runner = Runner(report.path, "litert")
    got = np.concatenate([runner(xs[i:i + 100]) for i in range(0, len(xs), 100)]).argmax(1)
    keras_top1 = float(np.mean(loaded.predict_proba(xs).argmax(1) == ys))
    int8_top1 = float(np.mean(got == ys))
    print(f"int8 LiteRT on all {len(xs)} test images: top-1 {100 * int8_top1:.2f} % vs Keras {100 * keras_top1:.2f} % "
          f"(drop {100 * (keras_top1 - int8_top1):.2f} pt), calibrated on 200 training images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
