"""A dataset given as a path (folder, archive, folder:PATH) names its run folder by one rule: one readable
folder directly under the runs root, for `train` and for the queue alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.core.folder_fixtures import class_tree
from workbench.core.training.rundir import MAX_NAME_PART, name_part

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--arch", "embedded_cnn", "--epochs", "1", "--batch-size", "16", "--limit", "32", "--test-limit", "16"]


@pytest.fixture
def env(tmp_path):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT),
                WORKBENCH_HOME=str(tmp_path / "home"), WORKBENCH_CACHE=str(tmp_path / "cache"))


def run_cli(env, *args, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def _only_run(runs: Path) -> Path:
    (run,) = [p for p in runs.iterdir() if not p.name.startswith(".")]
    assert (run / "config.json").is_file() and (run / "result.json").is_file()  # a whole run, not a tree
    return run


def test_train_on_a_folder_path_without_out_makes_one_folder(env, tmp_path):
    data = class_tree(tmp_path / "work" / "unreg", {"a": 12, "b": 12}, size=(32, 32))
    for n, given in enumerate((data, f"folder:{data}")):
        home = tmp_path / f"home{n}"
        proc = run_cli({**env, "WORKBENCH_HOME": str(home)}, "train", "--dataset", given, *TINY)
        assert proc.returncode == 0, proc.stderr[-3000:]
        run = _only_run(home / "runs")
        assert run.name.endswith("-embedded_cnn") and "-unreg-" in run.name, run.name
        assert json.loads((run / "result.json").read_text())["status"] == "finished"


def test_queue_runs_an_archive_path_into_one_folder(env, tmp_path):
    data = class_tree(tmp_path / "pets", {"cat": 12, "dog": 12}, size=(32, 32))
    archive = tmp_path / "pets.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(data, arcname="pets")
    proc = run_cli(env, "queue", "add", "--dataset", archive, *TINY)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = run_cli(env, "queue", "run")
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = _only_run(tmp_path / "home" / "runs")
    assert "-pets-" in run.name and ".tar" not in run.name, run.name


@pytest.mark.parametrize("given", [
    "cifar10", "simple_cnn", "/tmp/work/unreg", "folder:/tmp/work/unreg/", "/data/pets.tar.gz", "C:\\data\\x y",
    "../../etc", "..", "", ".hidden", "a" * 500, "名前/写真", "x\x00y\nz", "-rf", "bad\udcffdir",
])
def test_name_part_is_one_readable_bounded_component(given):
    part = name_part(given)
    assert part and len(part) <= MAX_NAME_PART
    assert "/" not in part and "\\" not in part and not part.startswith((".", "-"))
    assert part.isascii() and all(c.isalnum() or c in "_.-" for c in part)
    assert name_part(given) == part  # stable
    assert part != "." and part != ".."


def test_name_part_keeps_plain_names_and_tells_long_paths_apart():
    assert name_part("cifar10") == "cifar10" and name_part("toy_resnet_deep") == "toy_resnet_deep"
    assert name_part("/tmp/work/unreg").startswith("unreg-")
    assert name_part("/a/" + "x" * 100) != name_part("/b/" + "x" * 100)
