"""Argmax agreement with the library that wrote each file, for the loader's issue-17 cases (third-party style
files built here): an adapted Normalization in a tf.keras .h5, a nested MobileNetV2 (.h5 and .keras), a
ResNet50 base ('caffe'), a tf.keras Lambda(x / 255) opened with trust.

Run:  PYTHONPATH=. .venv/bin/python benchmarks/bench_loader.py [--out DIR] [-n 200]
With PYTHONPATH at an older checkout it measures that checkout's loader on the same files (before/after).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402

TF_KERAS = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tf_keras as k
out, n = sys.argv[1], int(sys.argv[2])
k.utils.set_random_seed(0)
x = np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3)).astype("float32")
y = np.argmax(x.reshape(n, -1)[:, :10], axis=1)
def net(front):
    m = k.Sequential([k.Input((32, 32, 3)), front, k.layers.Conv2D(16, 3, activation="relu"), k.layers.MaxPooling2D(),
                      k.layers.Conv2D(16, 3, activation="relu"), k.layers.Flatten(), k.layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(x, y, epochs=3, verbose=0)
    return m
norm = k.layers.Normalization()
norm.adapt(x)
for name, front in [("norm", norm), ("lambda255", k.layers.Lambda(lambda t: t / 255.0))]:
    m = net(front)
    m.save(os.path.join(out, name + ".h5"))
    np.save(os.path.join(out, name + "_pred.npy"), m.predict(x, verbose=0))
np.save(os.path.join(out, "x.npy"), x.astype("uint8"))
"""

KERAS3 = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import keras
out = sys.argv[1]
x = np.load(os.path.join(out, "x.npy"))
y = np.argmax(x.reshape(len(x), -1)[:, :10], axis=1)
keras.utils.set_random_seed(3)
base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
m = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.GlobalAveragePooling2D(),
                      keras.layers.Dense(10, activation="softmax")])
for layer in base.layers:  # moving statistics = the last batch's, so one short epoch gives a working model
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.momentum = 0.0
m.compile("adam", "sparse_categorical_crossentropy")
fed = keras.applications.mobilenet_v2.preprocess_input(x.astype("float32"))
m.fit(fed, y, epochs=1, verbose=0)
m.save(os.path.join(out, "mnv2.h5")); m.save(os.path.join(out, "mnv2.keras"))
np.save(os.path.join(out, "mnv2_pred.npy"), m.predict(fed, verbose=0))
base = keras.applications.ResNet50(input_shape=(32, 32, 3), include_top=False, weights=None)
inp = keras.Input((32, 32, 3))
r = keras.Model(inp, keras.layers.Dense(10, activation="softmax")(keras.layers.GlobalAveragePooling2D()(base(inp))))
r.save(os.path.join(out, "resnet.keras"))
np.save(os.path.join(out, "resnet_pred.npy"),
        r.predict(keras.applications.resnet.preprocess_input(x.astype("float32")), verbose=0))
"""

CASES = [("norm.h5", "norm", {}), ("mnv2.h5", "mnv2", {}), ("mnv2.keras", "mnv2", {}),
         ("resnet.keras", "resnet", {}), ("lambda255.h5", "lambda255", {"trust": True})]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="folder for the files (kept; reused when it holds them)")
    parser.add_argument("-n", type=int, default=200, help="images")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="bench_loader_"))
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    if not (out / "resnet_pred.npy").exists():
        for script, extra in ((TF_KERAS, [str(args.n)]), (KERAS3, [])):
            subprocess.run([sys.executable, "-c", script, str(out), *extra], check=True, env=env)
    from workbench.core.modelio.open import load_any_model

    x = np.load(out / "x.npy")
    print(f"{len(x)} images, files in {out}")
    for file, pred, options in CASES:
        theirs = np.load(out / f"{pred}_pred.npy")
        try:
            loaded = load_any_model(out / file, **options)
        except Exception as exc:  # noqa: BLE001 - a figure, not a test: say what happened
            print(f"{file:14s} failed to load: {exc}")
            continue
        ours = loaded.predict_proba(x)
        agree = float((ours.argmax(1) == theirs.argmax(1)).mean())
        print(f"{file:14s} agreement {agree:.3f}  max|dp| {np.abs(ours - theirs).max():.2e}  "
              f"{loaded.preprocessing.describe()}  ({loaded.preprocessing_reason})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
