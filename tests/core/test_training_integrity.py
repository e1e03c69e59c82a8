"""Nothing lost, nothing silently wrong: divergence on the validation side, refused runs, one writer per
folder, kill -9 at the worst moments, a full disk. Real training on tiny data, real processes killed
with SIGKILL, real file-size limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from workbench.core.runs.summary import summarize_run
from workbench.core.training.rundir import read_history
from workbench.core.training import (
    BatchProgress,
    EpochEnded,
    TrainConfig,
    TrainingFailed,
    TrainingFinished,
    train,
)
from workbench.core.training import engine
from workbench.core.training.checkpoint import read_checkpoint_state

ROOT = Path(__file__).resolve().parents[2]


def quick(run_dir: Path, **changes) -> TrainConfig:
    base = dict(dataset="builtin", arch="simple_cnn", epochs=2, batch_size=64, limit=192, test_limit=64,
                run_dir=str(run_dir))
    base.update(changes)
    return TrainConfig(**base)


def run_script(code: str, timeout: int = 240) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python with this checkout's workbench (so it can be killed for real)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def folder_state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def stray_temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".*") if ".tmp" in p.name]


def load_weights(path: str | Path) -> list[np.ndarray]:
    import keras

    return keras.saving.load_model(str(path), compile=False).get_weights()


# --- 1. NaN on the validation side ------------------------------------------------------------------


@pytest.mark.parametrize("val_split, value, what", [
    (0.2, 3e38, "the validation loss became NaN"),  # with validation, its pass is the first to see the overflow
    (0.0, np.nan, "the weights stopped being finite numbers"),
    (0.0, 3e38, "the network's outputs stopped being finite numbers"),
], ids=["overflowing-outputs", "nan-weights", "overflowing-outputs-no-validation"])
def test_an_update_that_breaks_the_network_ends_the_run_as_diverged(tmp_path, monkeypatch, val_split, value, what):
    # The last batch of epoch 2 leaves absurd weights (as one absurd update does): the training loss of
    # that epoch is still finite, but the network outputs NaN. Such an epoch is never "best" nor saved.
    models = []
    build = engine._build

    def capture(run, *args):
        build(run, *args)
        models.append(run.model)

    monkeypatch.setattr(engine, "_build", capture)

    def break_last_update(event):
        if isinstance(event, BatchProgress) and event.epoch == 1 and event.batch == event.steps:
            kernel = models[0].weights[0]
            kernel.assign(np.full(kernel.shape, value, dtype="float32"))

    events = []
    final = train(quick(tmp_path / "run", val_split=val_split), lambda e: (events.append(e), break_last_update(e)))
    assert isinstance(final, TrainingFailed) and final.diverged, final
    assert f"Training diverged at epoch 2 batch 3: {what}" in final.message
    assert "The model from epoch 1 was kept" in final.message
    assert final.epochs_completed == 1 and [e.epoch for e in events if isinstance(e, EpochEnded)] == [0]
    assert [r["epoch"] for r in read_history(final.run_dir)] == [0]
    for name in ("model.h5", "best.h5"):
        assert all(np.isfinite(w).all() for w in load_weights(Path(final.run_dir) / name)), name
    result = json.loads((Path(final.run_dir) / "result.json").read_text())
    assert result["status"] == "failed" and result["diverged"] is True and result["best_epoch"] == 0


def test_a_non_finite_validation_loss_is_divergence_not_a_best_epoch(tmp_path):
    import keras

    from workbench.core.training.callbacks.epoch_recorder import EpochRecorder
    from workbench.core.training.callbacks.state import RunState
    from workbench.core.training.rundir import HistoryWriter

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    state = RunState(steps_per_epoch=3, train_images=96, batch_size=32)
    emitted, saved = [], []
    recorder = EpochRecorder(state, emitted.append, HistoryWriter(tmp_path / "history.csv"), epochs=2,
                             snapshot=lambda: ([np.ones(2)], []), save_checkpoint=lambda *a: saved.append(a))
    recorder.set_model(model)
    recorder.on_epoch_end(0, {"loss": 0.5, "top1": 0.9, "val_loss": float("nan"), "val_top1": 0.95})
    assert state.diverged_at == (0, 3) and state.diverged_what == "validation loss"
    assert state.best_epoch is None and state.epochs_completed == 0 and model.stop_training
    assert emitted == [] and saved == [] and read_history(tmp_path) == []


# --- 2. A refused run writes nothing -------------------------------------------------------------------


def test_refused_runs_leave_an_existing_run_untouched(tmp_path):
    config = quick(tmp_path / "run", epochs=1)
    assert isinstance(train(config), TrainingFinished)
    before = folder_state(tmp_path / "run")
    refused = [
        (config, "already holds a run"),
        (config.replace(resume=True, seed=7), "trained with seed=0"),
        (config.replace(resume=True), "already completed 1 of 1 epochs"),
    ]
    for attempt, words in refused:
        final = train(attempt)
        assert isinstance(final, TrainingFailed) and words in final.message, final
        assert folder_state(tmp_path / "run") == before, f"{words}: the refused run wrote into the folder"
    assert json.loads(before["result.json"])["status"] == "finished"


def test_a_folder_that_is_not_a_run_is_refused_and_kept(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "model.h5").write_bytes(b"the user's own model")
    (mine / "history.csv").write_text("the user's own history\n")
    before = folder_state(mine)
    final = train(quick(mine))
    assert isinstance(final, TrainingFailed)
    assert final.message == (f"The folder {mine} is not empty and holds no workbench run; choose a new or empty "
                             "folder so that none of its files are overwritten.")
    assert folder_state(mine) == before and sorted(os.listdir(mine)) == ["history.csv", "model.h5"]


def test_a_new_run_that_completes_no_epoch_leaves_no_folder(tmp_path):
    final = train(quick(tmp_path / "run", learning_rate=1e6, optimizer="sgd", limit=512))
    assert isinstance(final, TrainingFailed) and final.diverged and final.epochs_completed == 0
    assert final.run_dir is None and not (tmp_path / "run").exists()
    root = tmp_path / "runs"  # the same under the default runs folder
    final = train(TrainConfig(dataset="builtin", arch="simple_cnn", epochs=1, limit=512, batch_size=64,
                              learning_rate=1e6, optimizer="sgd", runs_root=str(root)))
    assert isinstance(final, TrainingFailed) and list(root.iterdir()) == []


# --- 3. One writer per run folder ---------------------------------------------------------------------


def test_a_second_writer_is_refused_while_a_run_owns_the_folder(tmp_path):
    run_dir, go = tmp_path / "run", tmp_path / "go"
    assert isinstance(train(quick(run_dir, epochs=1)), TrainingFinished)
    # Process A resumes the run and holds it (waiting inside its TrainingStarted event) ...
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import os, time
            from pathlib import Path
            from workbench.core.training import TrainConfig, TrainingStarted, train
            def wait(event):
                if isinstance(event, TrainingStarted):
                    Path({str(tmp_path / 'started')!r}).write_text(str(os.getpid()))
                    while not Path({str(go)!r}).exists():
                        time.sleep(0.05)
            config = TrainConfig.from_dict({quick(run_dir, epochs=3, resume=True).to_dict()!r})
            print(type(train(config, wait)).__name__)
        """)],
        env=dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3"), stdout=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "started").exists():
            assert holder.poll() is None and time.monotonic() < deadline, "the first run did not start"
            time.sleep(0.1)
        # ... so process B, resuming the same folder through the CLI, is refused and writes nothing.
        before = folder_state(run_dir)
        second = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "train", "--resume", str(run_dir), "--epochs", "3"],
            capture_output=True, text=True, timeout=240, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        assert second.returncode == 1, second.stdout + second.stderr
        assert f"is being written by another run (pid {holder.pid})" in second.stderr
        assert folder_state(run_dir) == before
    finally:
        go.write_text("go")
        out, _ = holder.communicate(timeout=240)
    assert out.strip() == "TrainingFinished"
    assert [r["epoch"] for r in read_history(run_dir)] == [0, 1, 2]


# --- 4. Crash safety ---------------------------------------------------------------------------------

KILL_DURING_FINAL_SAVE = """
    import os, signal
    import workbench.core.modelio.save as save
    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)  # the temp model file is written, the final name not yet
    save.write_metadata = killed
    from workbench.core.training import TrainConfig, train
    train(TrainConfig.from_dict({config!r}))
"""


def test_kill_during_the_final_save_is_finished_by_resume(tmp_path):
    run_dir = tmp_path / "run"
    config = quick(run_dir, epochs=2)
    proc = run_script(KILL_DURING_FINAL_SAVE.format(config=config.to_dict()))
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert not (run_dir / "model.h5").exists() and not (run_dir / "best.h5").exists()
    assert stray_temp_files(run_dir)  # the killed save left its temp file
    assert summarize_run(run_dir).resumable  # the Runs panel offers to finish it
    events = []
    final = train(config.replace(resume=True), events.append)  # the same command, with --resume
    assert isinstance(final, TrainingFinished), final
    assert not [e for e in events if isinstance(e, EpochEnded)]  # nothing is trained again
    assert stray_temp_files(run_dir) == []
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "finished" and result["epochs_completed"] == 2
    best = load_weights(final.best_model_path)  # the best epoch's weights survived the kill
    last = load_weights(final.model_path)
    assert all(np.isfinite(w).all() for w in best)
    assert result["best_epoch"] in (0, 1)
    assert all((a == b).all() for a, b in zip(best, last)) == (result["best_epoch"] == 1)
    assert final.test_top1 is not None and [r["epoch"] for r in read_history(run_dir)] == [0, 1]
    again = train(config.replace(resume=True))
    assert isinstance(again, TrainingFailed) and "already completed 2 of 2 epochs" in again.message


KILL_BETWEEN_CHECKPOINT_FILES = """
    import os, signal
    real_replace = os.replace
    count = []
    def replace(src, dst):
        real_replace(src, dst)
        if str(dst).endswith("last.h5"):
            count.append(dst)
            if len(count) == 2:  # epoch 2's arrays are in place: die before anything else is written
                os.kill(os.getpid(), signal.SIGKILL)
    os.replace = replace
    from workbench.core.training import TrainConfig, train
    train(TrainConfig.from_dict({config!r}))
"""


def test_checkpoint_state_and_arrays_never_disagree_after_a_kill(tmp_path):
    import h5py

    run_dir = tmp_path / "run"
    config = quick(run_dir, epochs=3)
    proc = run_script(KILL_BETWEEN_CHECKPOINT_FILES.format(config=config.to_dict()))
    assert proc.returncode == -9, proc.stderr[-2000:]
    with h5py.File(run_dir / "checkpoint" / "last.h5", "r") as f:
        arrays_epoch = int(f.attrs["epoch"])
    assert arrays_epoch == 1 and read_checkpoint_state(run_dir)["epoch"] == arrays_epoch
    events = []
    final = train(config.replace(resume=True), events.append)
    assert isinstance(final, TrainingFinished), final
    assert events[0].initial_epoch == 2  # epoch 2 is not trained twice
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [2]
    assert [r["epoch"] for r in read_history(run_dir)] == [0, 1, 2]


# --- 5. A full disk -----------------------------------------------------------------------------------

FILE_SIZE_LIMIT_AFTER_EPOCH_1 = """
    import json, resource, signal, time
    from pathlib import Path
    from workbench.core.training import EpochEnded, TrainConfig, train
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    last = Path({run_dir!r}) / "checkpoint" / "last.h5"
    def limit_files(event):
        if isinstance(event, EpochEnded) and event.epoch == 0:
            while not last.exists():  # epoch 1's checkpoint is written in the background
                time.sleep(0.02)
            # Room for a model file (weights only) but not for the next checkpoint (weights + optimizer).
            size = int(last.stat().st_size * 0.6)
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    final = train(TrainConfig.from_dict({config!r}), limit_files)
    print(json.dumps({{"type": type(final).__name__, "message": getattr(final, "message", ""),
                       "model_path": final.model_path, "epochs": final.epochs_completed}}))
"""


def test_a_full_disk_stops_the_run_at_once_and_keeps_the_last_good_model(tmp_path):
    run_dir = tmp_path / "run"
    config = quick(run_dir, epochs=4)
    proc = run_script(FILE_SIZE_LIMIT_AFTER_EPOCH_1.format(run_dir=str(run_dir), config=config.to_dict()))
    assert proc.returncode == 0, proc.stderr[-3000:]
    final = json.loads(proc.stdout.strip().splitlines()[-1])
    assert final["type"] == "TrainingFailed"
    assert "[Errno" not in final["message"] and "errno" not in final["message"]
    assert final["message"].startswith(f"A file in {run_dir} would grow beyond the largest file size allowed here;")
    assert final["message"].endswith(f"The model from epoch 1 was kept in {run_dir / 'model.h5'}.")
    # Reported at the failed write (epoch 2's checkpoint), not an epoch later.
    assert [r["epoch"] for r in read_history(run_dir)] == [0, 1]
    assert final["epochs"] == 1 and read_checkpoint_state(run_dir)["epoch"] == 0
    assert stray_temp_files(run_dir) == []
    assert all(np.isfinite(w).all() for w in load_weights(final["model_path"]))
    resumed = train(config.replace(resume=True))  # with room again, the run goes on from epoch 2
    assert isinstance(resumed, TrainingFinished) and resumed.epochs_completed == 4
    assert [r["epoch"] for r in read_history(run_dir)] == [0, 1, 2, 3]


def mounted_tmpfs(folder: Path, options: str):
    """Mount a small tmpfs on ``folder`` (a real full or read-only disk); skip where mounting is impossible."""
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root (the RLIMIT_FSIZE test covers full disks everywhere)")
    return folder


@pytest.fixture
def tmpfs(tmp_path):
    mounted = []

    def mount(name: str, options: str) -> Path:
        mounted.append(mounted_tmpfs(tmp_path / name, options))
        return mounted[-1]

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_real_full_disk_keeps_the_last_good_model_or_leaves_nothing(tmpfs):
    # A checkpoint of this network is ~4.2 MB (weights, Adam's slots, best weights), a model file ~1.1 MB.
    tiny = tmpfs("tiny", "size=3m")  # not even the first checkpoint fits
    final = train(quick(tiny / "run", epochs=3))
    assert isinstance(final, TrainingFailed) and final.run_dir is None
    assert final.message == (f"The disk holding {tiny / 'run'} is full; free some space, then start or resume "
                             "the run again. No epoch had been saved, so no model was kept.")
    assert os.listdir(tiny) == []  # the new run's folder is gone, its space given back
    small = tmpfs("small", "size=7m")  # one checkpoint, one model file and the logs fit; a second checkpoint does not
    final = train(quick(small / "run", epochs=3))
    assert isinstance(final, TrainingFailed), final
    assert final.message.startswith(f"The disk holding {small / 'run'} is full;")
    assert final.message.endswith(f"The model from epoch 1 was kept in {small / 'run' / 'model.h5'}.")
    assert [r["epoch"] for r in read_history(small / "run")] == [0, 1]  # stopped at once, not an epoch later
    assert all(np.isfinite(w).all() for w in load_weights(final.model_path))
    assert stray_temp_files(small) == []


def test_a_read_only_folder_gets_a_sentence_not_an_errno(tmpfs):
    read_only = tmpfs("ro", "size=1m,ro")
    final = train(quick(read_only / "run"))
    assert isinstance(final, TrainingFailed)
    assert final.message == (f"The folder {read_only / 'run'} is on a read-only file system; "
                             "choose a writable folder for the run.")
