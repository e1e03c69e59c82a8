"""A sweep folder as the `sweep` command leaves it, without training: sweep.json with varied trials."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path


def write_fixture_sweep(folder: Path, trials: int = 14) -> Path:
    rng = random.Random(4)
    rows = []
    for i in range(trials):
        lr = float(f"{math.exp(rng.uniform(math.log(1e-4), math.log(1e-1))):.4g}")
        optimizer = ("adam", "sgd")[i % 2]
        # best near lr 3e-3 for adam; sgd lags: a shape a reader can see in the scatter
        score = 0.72 - 0.09 * (math.log10(lr) + 2.5) ** 2 - (0.08 if optimizer == "sgd" else 0) + rng.uniform(-.02, .02)
        status = "pruned" if score < 0.6 and i % 3 == 0 else ("failed" if i == 5 else "finished")
        rows.append({"id": f"trial-{i + 1:03d}", "run_dir": f"trial-{i + 1:03d}", "status": status,
                     "settings": {"optimizer": optimizer, "learning_rate": lr},
                     "best_val_top1": None if status == "failed" else round(score, 4),
                     "test_top1": None if status != "finished" else round(score - 0.02, 4),
                     "epochs": 1 if status == "pruned" else (0 if status == "failed" else 9),
                     "seconds": round(rng.uniform(20, 60), 1)})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sweep.json").write_text(json.dumps({
        "kind": "sweep", "name": folder.name, "backend": "local", "asha": {"eta": 3, "min_epochs": 1},
        "metric": "val_top1", "log_scaled": ["learning_rate"], "trials": rows}))
    return folder
