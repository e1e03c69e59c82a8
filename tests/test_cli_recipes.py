"""`train --recipe`, `train --minutes` and `recipes` on the command line (built-in data, tiny runs)."""

from __future__ import annotations

import json

from tests.test_cli_train import run_cli


def test_recipe_fills_the_run_and_explicit_flags_win(tmp_path):
    run = tmp_path / "run"
    proc = run_cli("train", "--recipe", "fast", "--dataset", "builtin", "--arch", "embedded_cnn",
                   "--epochs", "1", "--batch-size", "64", "--limit", "128", "--test-limit", "32", "--out", run,
                   "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    stored = json.loads((run / "config.json").read_text())["config"]
    assert stored["recipe"] == "fast"
    assert (stored["batch_size"], stored["epochs"], stored["arch"]) == (64, 1, "embedded_cnn")  # flags win
    assert (stored["lr_schedule"], stored["label_smoothing"], stored["ema"], stored["tta_flip"]) == (
        "triangle", 0.2, 0.0, True)  # the rest from the recipe
    assert (stored["lookahead"], stored["tta_shift"], stored["bias_lr_scale"]) == (True, 1, 64.0)
    assert stored["arch_options"] == {}  # the recipe network's options do not follow a network change
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["recipe"] == "fast" and result["status"] == "finished"
    assert "reached " in proc.stderr and "min of training" in proc.stderr


def test_recipe_help_and_recipes_command_list_every_recipe():
    proc = run_cli("train", "--recipe", "help")
    assert proc.returncode == 0 and all(f"{n}: " in proc.stdout for n in ("report", "fast", "best"))
    proc = run_cli("recipes", "--json")
    data = json.loads(proc.stdout)
    assert {r["name"] for r in data["recipes"]} >= {"report", "fast", "best"}
    assert data["best_recipe_for"]["toy_resnet"] in {r["name"] for r in data["recipes"]}


def test_unknown_recipe_is_a_usage_error_that_writes_nothing(tmp_path):
    proc = run_cli("train", "--recipe", "quick", "--dataset", "builtin", "--out", tmp_path / "run")
    assert proc.returncode == 2 and not (tmp_path / "run").exists()
    assert "Unknown recipe 'quick'; choose one of report, fast, best" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_minutes_ends_by_the_deadline_annealed_and_saved(tmp_path):
    run = tmp_path / "run"
    proc = run_cli("train", "--dataset", "builtin", "--arch", "embedded_cnn", "--minutes", "0.1",
                   "--lr-schedule", "one_cycle", "--optimizer", "sgd", "--lr", "0.05", "--batch-size", "32",
                   "--limit", "128", "--test-limit", "32", "--out", run, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == "finished" and result["model_path"]
    epochs = result["epochs"]
    assert result["training_seconds"] <= 0.1 * 60 * 1.15  # by the deadline (first epoch's tracing included)
    assert len(epochs) >= 1 and epochs[-1]["lr"] < 0.1 * max(e["lr"] for e in epochs) + 1e-12
    assert json.loads((run / "config.json").read_text())["config"]["minutes"] == 0.1
    assert "reached " in proc.stderr
