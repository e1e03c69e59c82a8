"""The README's `tensorboard --logdir RUN_DIR/logs` works: the command is installed and reads our event files."""

from __future__ import annotations

import csv
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from workbench.core.training import TrainConfig, TrainingFinished, train


def test_tensorboard_is_a_dependency_with_its_command():
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert any(r.replace(" ", "").startswith("tensorboard>=") for r in project["dependencies"])
    scripts = {ep.name for ep in metadata.entry_points(group="console_scripts")}
    assert "tensorboard" in scripts  # the command the README names
    command = Path(sys.executable).parent / "tensorboard"
    out = subprocess.run([str(command), "--version_tb"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().startswith("2."), out.stderr[-2000:]


def test_tensorboard_reads_the_scalars_a_real_run_writes(tmp_path):
    # The accumulator TensorBoard's server reads logs with (TF2 summaries are tensors tagged for the scalars plugin).
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    run_dir = tmp_path / "run"
    config = TrainConfig(dataset="builtin", arch="simple_cnn", epochs=2, batch_size=64, limit=256, test_limit=64,
                         run_dir=str(run_dir))
    final = train(config)
    assert isinstance(final, TrainingFinished), final
    with open(run_dir / "history.csv") as f:
        history = list(csv.DictReader(f))

    for split, prefix in (("train", ""), ("validation", "val_")):
        events = EventAccumulator(str(run_dir / "logs" / split))
        events.Reload()
        shown = set(events.PluginTagToContent("scalars"))  # what the Scalars dashboard lists
        assert {"epoch_loss", "epoch_top1"} <= shown, (split, shown)
        assert "epoch_top5" not in shown  # 5 classes: top-5 would always be 100 %, so it is not measured
        loss = events.Tensors("epoch_loss")
        assert [e.step for e in loss] == [0, 1]
        for event, row in zip(loss, history):
            assert float(make_ndarray(event.tensor_proto)) == pytest.approx(float(row[f"{prefix}loss"]), rel=1e-4)
