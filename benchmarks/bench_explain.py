"""Grad-CAM speed: one image with the model loaded, and a folder of 1,000 images through `explain`.

    python benchmarks/bench_explain.py [--arch airnet] [--model FILE.h5] [--images 1000] [--repeats 50]

Targets (issue 16, this 2-core CPU): one 32×32 image <= 100 ms warm; 1,000 images through the CLI
>= 50 images/s. The model is one of our networks built for 10 classes (untrained weights cost the same
as trained ones) and saved with `save_model`, or a file given with --model. Images are 32×32 PNGs
written to a temporary folder. Three figures:
  one image      gradcam.explain(loaded, one image), warm, median (and p90) of --repeats calls
  CLI, loaded    the CLI's own per-file path (decode, fit, Grad-CAM, overlay PNG + .npy written atomically)
                 with the model already open: the rate the target speaks of
  CLI, whole     `main(["explain", MODEL, FOLDER, "--out", DIR])` in this process: opening the model and
                 compiling included (TensorFlow's import is not)
The load average is printed before and after: the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-bench-"))

import numpy as np  # noqa: E402


def _load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="airnet")
    parser.add_argument("--model", help="a saved model file to time instead of --arch")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()

    from PIL import Image

    from workbench.cli import main as cli_main
    from workbench.cli.explain_cmd import _explain_files
    from workbench.core.architectures import build_model
    from workbench.core.classify import fit_for, fit_note, input_shape_for_images
    from workbench.core.datasets import DATASETS
    from workbench.core.explain.gradcam import explain
    from workbench.core.modelio import open_model, save_model

    tmp = Path(tempfile.mkdtemp(prefix="bench-explain-"))
    if args.model:
        model_path = Path(args.model)
    else:
        model_path = tmp / f"{args.arch}.h5"
        save_model(build_model(args.arch, 10), model_path, class_names=DATASETS["cifar10"].class_names,
                   dataset_id="cifar10")
    loaded = open_model(str(model_path)).loaded
    h, w, c = input_shape_for_images(loaded)
    rng = np.random.default_rng(0)
    folder = tmp / "images"
    folder.mkdir()
    pixels = rng.integers(0, 256, (args.images, h, w, c), dtype=np.uint8)
    for i, img in enumerate(pixels):
        Image.fromarray(img if c == 3 else img[..., 0]).save(folder / f"{i:05d}.png")
    files = sorted(str(p) for p in folder.iterdir())
    print(f"model {model_path.name} ({loaded.input_shape}), {args.images} PNG images; load average before {_load()}")

    one = pixels[:1]
    explain(loaded, one)  # compile
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        e = explain(loaded, one)
        times.append(time.perf_counter() - t0)
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    print(f"one image: median {1000 * statistics.median(times):.1f} ms, p90 {1000 * p90:.1f} ms "
          f"(layer {e.layer}, {e.method}; target <= 100 ms)")

    fit = fit_for(loaded, None)
    out = tmp / "out-loaded"
    _explain_files(loaded, files[:64], out, (h, w, c), fit, fit_note(loaded, fit), None, None, 0.5, quiet=True)
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        rows = _explain_files(loaded, files, out, (h, w, c), fit, fit_note(loaded, fit), None, None, 0.5, quiet=True)
    took = time.perf_counter() - t0
    assert len(rows) == len(files) and not any("error" in r for r in rows)
    print(f"CLI path, model loaded: {len(files)} images in {took:.2f} s = {len(files) / took:.0f} images/s "
          "(target >= 50)")

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(["explain", str(model_path), str(folder), "--out", str(tmp / "out-cli")])
    took = time.perf_counter() - t0
    written = len(list((tmp / "out-cli").glob("*.npy")))
    print(f"CLI whole command (opening the model included): {written} images in {took:.2f} s = "
          f"{written / took:.0f} images/s, exit {code}")
    print(f"load average after {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
