"""The multi-device path: two logical CPUs make the engine train under MirroredStrategy.

Logical devices must be configured before TensorFlow initialises, so this runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from workbench.core.training import TrainConfig, train
    events = []
    final = train(TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=2, batch_size=32, limit=128,
                              test_limit=64, run_dir=sys.argv[1]), events.append)
    import tensorflow as tf
    from workbench.core.training.devices import configure_devices
    setup = configure_devices()
    print(json.dumps({"final": type(final).__name__, "message": getattr(final, "message", ""),
                      "device": events[0].device, "strategy": type(setup.strategy).__name__,
                      "replicas": setup.strategy.num_replicas_in_sync,
                      "test_top1": getattr(final, "test_top1", None)}))
    """
)


def test_two_logical_cpus_train_with_mirrored_strategy(tmp_path):
    env = dict(os.environ, WORKBENCH_LOGICAL_CPUS="2", CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "run")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["final"] == "TrainingFinished", out
    assert out["strategy"] == "MirroredStrategy" and out["replicas"] == 2
    assert "2 logical devices" in out["device"]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["replicas"] == 2
    assert (tmp_path / "run" / "model.h5").exists()


def test_single_device_uses_default_strategy(monkeypatch):
    from workbench.core.training import devices

    monkeypatch.setattr(devices, "cpu_has_bfloat16", lambda: False)
    setup = devices.configure_devices(mixed_precision=True)
    assert setup.replicas == 1 and not setup.gpu
    assert setup.mixed_precision is False and setup.precision == "float32"  # no native bfloat16: emulated is slower
    assert setup.description.startswith("CPU (") and "mixed" not in setup.description


def test_a_cpu_with_native_bfloat16_trains_in_mixed_bfloat16(monkeypatch):
    from workbench.core.training import devices

    monkeypatch.setattr(devices, "cpu_has_bfloat16", lambda: True)
    setup = devices.configure_devices(mixed_precision=True)
    assert setup.precision == "mixed_bfloat16" and setup.mixed_precision
    assert "bfloat16 mixed precision" in setup.description
    assert devices.configure_devices(mixed_precision=False).precision == "float32"


def test_bfloat16_support_is_read_from_the_cpu_flags(tmp_path):
    from workbench.core.training.devices import cpu_has_bfloat16

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 fma\n")
    assert cpu_has_bfloat16(str(info))
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f fma\n")
    assert not cpu_has_bfloat16(str(info))
    assert not cpu_has_bfloat16(str(tmp_path / "missing"))


def test_probe_says_which_device_and_why_not_a_gpu(monkeypatch):
    from workbench.core.training.devices import probe_devices

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    report = probe_devices()
    assert not report.gpu
    assert report.description.startswith("CPU (") and "threads" in report.description
    assert "CUDA_VISIBLE_DEVICES hides every GPU" in report.details
    assert report.details.startswith("TensorFlow ") and report.details.endswith(".")
