"""Build official-format CIFAR-10 files from the 50,000-image JPEG tree, for real runs on this machine.

    python scripts/cifar10_from_jpeg.py TRAIN_TREE SAMPLE_BATCHES OUT

TRAIN_TREE is `train/<class>/NNNN.jpg` (../shared/data/cifar10-train-jpeg, unpacked); SAMPLE_BATCHES is a
`cifar-10-batches-py` folder whose `test_batch` (2,000 real test images) and `batches.meta` are copied;
OUT receives `cifar-10-batches-py/` with five training batches of 10,000 images in a fixed shuffle, so
`--dataset cifar10 --data-dir OUT` trains on all 50,000 and tests on the sample's real test images.
"""

from __future__ import annotations

import pickle
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def main(tree: Path, sample: Path, out: Path) -> None:
    meta = pickle.loads((sample / "batches.meta").read_bytes(), encoding="bytes")
    names = [n.decode() for n in meta[b"label_names"]]
    images, labels = [], []
    for index, name in enumerate(names):
        for path in sorted((tree / name).glob("*.jpg")):
            with Image.open(path) as img:
                images.append(np.asarray(img.convert("RGB"), dtype=np.uint8))
            labels.append(index)
    x = np.stack(images)
    y = np.asarray(labels, dtype=np.int64)
    order = np.random.default_rng(0).permutation(len(x))  # fixed shuffle: batches mix the classes
    x, y = x[order], y[order]
    target = out / "cifar-10-batches-py"
    target.mkdir(parents=True, exist_ok=True)
    per = int(np.ceil(len(x) / 5))
    for b in range(5):
        part = slice(b * per, (b + 1) * per)
        rows = x[part].transpose(0, 3, 1, 2).reshape(len(x[part]), -1)  # official layout: planes R, G, B
        batch = {b"batch_label": f"training batch {b + 1} of 5".encode(), b"labels": y[part].tolist(),
                 b"data": rows, b"filenames": [f"{i}.png".encode() for i in range(len(rows))]}
        (target / f"data_batch_{b + 1}").write_bytes(pickle.dumps(batch, protocol=2))
    for name in ("test_batch", "batches.meta"):
        shutil.copyfile(sample / name, target / name)
    print(f"{len(x)} training images in {target}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
