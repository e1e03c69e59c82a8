"""Generated run folders (config.json, history.csv, result.json — no training) for the runs-table
benchmark, its tests and its screenshot. Files are laid out exactly as a real run writes them.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from workbench.core.training.config import TrainConfig
from workbench.core.training.rundir import HISTORY_COLUMNS

ARCH_PARAMS = {"simple_cnn": 258_762, "resnet20": 274_042, "resnet_wide": 1_087_722, "all_conv": 839_352}  # count_params(arch, 10)


def write_run(root: str | Path, folder: str, *, config: dict[str, Any] | None = None, epochs: int = 10,
              final_top1: float = 0.7, status: str = "finished", started: str = "2026-11-01T10:00:00+0000",
              seconds_per_epoch: float = 12.0, params: int | None = None, seed: int = 0) -> Path:
    """One run folder with a plausible learning curve reaching about ``final_top1``."""
    rng = random.Random(seed)
    cfg = TrainConfig(epochs=epochs).to_dict()
    cfg.update(config or {})
    run = Path(root) / folder
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({
        "config": cfg, "started": started, "params": params or ARCH_PARAMS.get(cfg["arch"], 100_000),
        "device": "CPU (2 threads)", "format": 1,
    }, indent=2, sort_keys=True))
    lines = [",".join(HISTORY_COLUMNS)]
    wall = 0.0
    for e in range(epochs):
        progress = 1 - math.exp(-3 * (e + 1) / epochs)
        val1 = final_top1 * progress + rng.uniform(-0.01, 0.01)
        val5 = min(0.999, 0.5 + 0.5 * progress + rng.uniform(-0.01, 0.01))
        loss = 2.3 * (1 - progress) + 0.3
        seconds = seconds_per_epoch + rng.uniform(-1, 1)
        wall += seconds
        lines.append(f"{e},{loss:.4f},{val1 + 0.03:.4f},{val5:.4f},{loss + 0.1:.4f},{val1:.4f},{val5:.4f},"
                     f"0.001,{seconds:.3f},{40000 / seconds_per_epoch:.1f},{wall:.3f}")
    (run / "history.csv").write_text("\n".join(lines) + "\n")
    if status != "incomplete":
        (run / "result.json").write_text(json.dumps({
            "status": status, "test_top1": final_top1 - 0.01, "test_top5": 0.97, "test_loss": 0.9,
            "epochs_completed": epochs, "epochs_planned": epochs, "device": "CPU (2 threads)", "message": "",
        }))
    return run


def write_many(root: str | Path, count: int) -> list[Path]:
    """``count`` runs varying architecture, learning rate, batch size, augmentation and status."""
    archs = list(ARCH_PARAMS)
    out = []
    for i in range(count):
        arch = archs[i % len(archs)]
        cfg = {"arch": arch, "learning_rate": [1e-3, 3e-3, 1e-2][i % 3], "batch_size": [64, 128, 256][(i // 3) % 3],
               "augment": bool(i % 2), "dataset": "cifar10" if i % 5 else "cifar100"}
        status = ["finished", "finished", "finished", "stopped", "failed", "incomplete"][i % 6]
        out.append(write_run(root, f"20261101-{i:06d}-{cfg['dataset']}-{arch}", config=cfg, epochs=10 + i % 21,
                             final_top1=0.5 + (i * 37 % 40) / 100, status=status,
                             started=f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00+0000", seed=i))
    return out
