"""`train --dataset PATH --json`: the result line carries what `datasets add --json` says about the same folder
(skipped files, leakage, split), so a scripted run knows what it trained on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.core.folder_fixtures import class_tree, noise, save

ROOT = Path(__file__).resolve().parents[1]


def run_cli(tmp_path, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT), WORKBENCH_HOME=str(tmp_path / "home"),
               WORKBENCH_CACHE=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True,
                          text=True, timeout=300, env=env, cwd=tmp_path)


def test_train_on_a_path_reports_the_import_like_datasets_add(tmp_path):
    root = tmp_path / "shots"
    class_tree(root / "train", {"red": 10, "blue": 10}, size=(32, 32))
    class_tree(root / "test", {"red": 3, "blue": 3}, size=(32, 32), seed=1)
    leaked = noise((32, 32), 4242)
    save(root / "train" / "red" / "same.png", leaked)
    save(root / "test" / "red" / "same.png", leaked)  # the same picture on both sides: a leak
    (root / "train" / "blue" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "train" / "red" / "notes.txt").write_text("not an image")
    proc = run_cli(tmp_path, "train", "--dataset", root, "--arch", "simple_cnn", "--epochs", "1", "--batch-size", "8",
                   "--limit", "16", "--out", tmp_path / "run", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    imported = json.loads(proc.stdout.splitlines()[-1])["import"]
    assert imported["skipped"] == 2 and {s["path"] for s in imported["skipped_files"]} == {
        "train/blue/broken.jpg", "train/red/notes.txt"}
    assert imported["split"] == "folders" or "test" in imported["split_note"]
    assert [(leak["train"], leak["test"]) for leak in imported["leaks"]] == [("train/red/same.png", "test/red/same.png")]
    assert imported["train_size"] == 21 and imported["test_size"] == 7
    assert "imported" in proc.stderr and "2 files skipped" in proc.stderr  # one line of it on the terminal
    added = run_cli(tmp_path, "datasets", "add", "shots", root, "--json")
    assert added.returncode == 0, added.stderr
    same = {k: v for k, v in json.loads(added.stdout).items() if k not in ("name", "from_cache")}
    assert same == {k: v for k, v in imported.items() if k not in ("name", "from_cache")}
