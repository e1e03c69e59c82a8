"""`datasets add/remove` and --dataset NAME|PATH through real processes on small real image trees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.folder_fixtures import class_tree
from tests.core.user_fixtures import messy_tree, zip_escaping

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT),
                WORKBENCH_HOME=str(tmp_path / "home"), WORKBENCH_CACHE=str(tmp_path / "cache"))


def run_cli(env, *args, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def test_add_prints_the_summary_and_lists_skipped_files_on_request(env, tmp_path):
    root = messy_tree(tmp_path / "Mes photos")
    proc = run_cli(env, "datasets", "add", "Mes photos", root, "--show-skipped")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "16 images in 3 classes" in out and "Katze 猫" in out and "Éléphant" in out
    assert "held out for testing" in out and "chosen from the images" in out
    assert "skipped: 3 files" in out and "chien/broken.jpg: damaged or truncated" in out
    assert "importing" in proc.stderr  # the progress line
    listing = run_cli(env, "datasets").stdout
    assert "Mes photos" in listing and str(root) in listing


def test_add_json_has_skipped_count_and_split_sizes(env, tmp_path):
    root = messy_tree(tmp_path / "p")
    proc = run_cli(env, "datasets", "add", "pets", root, "--json", "--size", "12x16", "--color", "grayscale",
                   "--fit", "pad")
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert facts["skipped"] == 3 and facts["train_size"] + facts["test_size"] == 16
    assert facts["image_shape"] == [12, 16, 1] and facts["fit"] == "pad" and facts["defaults"] == []
    listed = json.loads(run_cli(env, "datasets", "--json").stdout)
    assert [r["id"] for r in listed if r["user"]] == ["pets"]
    gone = run_cli(env, "datasets", "remove", "pets", "--json")
    assert json.loads(gone.stdout)["removed"] == "pets" and root.exists()
    assert not [r for r in json.loads(run_cli(env, "datasets", "--json").stdout) if r["user"]]


@pytest.mark.parametrize("args, words", [
    (["add", "cifar10", "{root}"], "built-in dataset"),
    (["add", "../up", "{root}"], "may hold only letters"),
    (["add", "ok", "{root}/nope"], "does not exist"),
    (["add", "ok", "{root}", "--size", "0"], "--size must be 1 to"),
    (["add", "ok", "{root}", "--size", "big"], "--size must be N"),
    (["add", "ok", "{root}", "--fit", "squash"], "invalid choice"),
    (["remove", "never-added"], "no user dataset"),
])
def test_usage_errors_exit_2_and_write_nothing(env, tmp_path, args, words):
    root = messy_tree(tmp_path / "p")
    proc = run_cli(env, "datasets", *[a.format(root=root) for a in args])
    assert proc.returncode == 2 and words in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "home" / "datasets.json").exists()


def test_a_hostile_archive_fails_in_one_sentence(env, tmp_path):
    proc = run_cli(env, "datasets", "add", "bad", zip_escaping(tmp_path / "bad.zip"))
    assert proc.returncode == 1 and "outside the folder" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "home" / "datasets.json").exists()


def test_every_datasets_option_has_help():
    from workbench.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    datasets = sub.choices["datasets"]
    actions = next(a for a in datasets._actions if a.__class__.__name__ == "_SubParsersAction")
    for p in (datasets, *actions.choices.values()):
        for action in p._actions:
            assert action.help, (p.prog, action.dest)


def test_train_on_a_path_then_evaluate_by_name(env, tmp_path):
    root = class_tree(tmp_path / "shapes", {"red one": 24, "blue two": 24}, size=(32, 32))
    run = tmp_path / "run"
    proc = run_cli(env, "train", "--dataset", root, "--arch", "simple_cnn", "--epochs", "1", "--batch-size", "16",
                   "--limit", "32", "--seed", "1", "--out", run, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    model = next(p for p in run.iterdir() if p.suffix in (".h5", ".keras"))
    assert run_cli(env, "datasets", "add", "colours", root).returncode == 0
    proc = run_cli(env, "evaluate", model, "--dataset", "colours", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    facts = json.loads(proc.stdout)
    assert facts["n"] == 10 and 0.0 <= facts["top1"] <= 1.0  # 20 % of 48 held out


def test_refusals_are_one_sentence(env, tmp_path):
    from tests.core.user_fixtures import encrypted_zip

    for args, words in ((("E", encrypted_zip(tmp_path / "e.zip")), "password-protected"),
                        (("X", "/"), "root of the file system")):
        proc = run_cli(env, "datasets", "add", *args)
        assert proc.returncode == 1 and words in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr and "Errno" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "home" / "datasets.json").exists()


def test_cache_space_is_shown_and_prune_reports_bytes(env, tmp_path):
    from tests.core.user_fixtures import targz_of

    tree = class_tree(tmp_path / "t", {"a": 3, "b": 3}, size=(8, 8))
    assert run_cli(env, "datasets", "add", "mine", targz_of(tree, tmp_path / "set.tar.gz", "set")).returncode == 0
    listing = run_cli(env, "datasets")
    assert "Caches:" in listing.stdout and "B in" in listing.stdout and "datasets prune" in listing.stdout
    assert run_cli(env, "datasets", "remove", "mine").returncode == 0
    stale = tmp_path / "keras-data" / "workbench-cache" / "cifar-10-batches-py"
    stale.mkdir(parents=True)
    (stale / "x_train.npy").write_bytes(b"\0" * 100_000)
    dry = run_cli(env, "datasets", "prune", "--dry-run", "--json", "--data-dir", tmp_path / "keras-data")
    facts = json.loads(dry.stdout)
    assert dry.returncode == 0 and facts["dry_run"] and facts["freed_bytes"] >= 100_000 and stale.exists()
    proc = run_cli(env, "datasets", "prune", "--data-dir", tmp_path / "keras-data")
    assert proc.returncode == 0 and f"freed {facts['freed_bytes']:,} bytes" in proc.stdout and not stale.exists()


def test_adding_over_an_unreadable_registry_says_where_it_was_kept(env, tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "datasets.json").write_bytes(b"{half a file")
    proc = run_cli(env, "datasets", "add", "pets", messy_tree(tmp_path / "p"))
    kept = list((tmp_path / "home").glob("datasets.json.unreadable-*"))
    assert proc.returncode == 0 and len(kept) == 1 and kept[0].read_bytes() == b"{half a file"
    assert str(kept[0]) in proc.stderr
