"""Trials as Ray Tune trials on an existing Ray instance (``host:port``) or one started here (``local``).

Ray is an optional extra (``pip install 'cifar-workbench[cluster]'``). Each Tune trial calls the same
``run_trial`` as a local worker and trains into its ``trial-NNN`` folder of the sweep folder; Tune's own
files go to ``<sweep>/ray`` (``storage_path``). ASHA is Ray's ASHAScheduler with the same rungs.
On a cluster of several machines the sweep folder must be on storage every node sees (Ray's own rule
for ``storage_path`` since Ray 2.7). A ``local`` instance keeps its session files in a temp folder of ours
(not /tmp/ray) and its auth token in the environment (not ~/.ray); ``disconnect`` removes what it made.
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

TUNE_DIR = "ray"  # Tune's experiment folder inside the sweep folder
# Ray puts Unix sockets under its temp folder, and a socket path may not exceed 107 bytes.
_MAX_TEMP_BASE_CHARS = 40
_made: list[Path] = []  # folders a local instance created, removed by disconnect()


def ray_problem() -> str | None:
    """A sentence when Ray Tune cannot be used here, else None."""
    try:
        import ray  # noqa: F401
        from ray import tune  # noqa: F401
    except ImportError:
        return ("--ray needs Ray Tune, which is not installed; install the cluster extra "
                "(pip install 'cifar-workbench[cluster]') or leave --ray out to use local workers.")
    return None


def connect(address: str) -> None:
    """Join the Ray instance at ``address`` or start one (``local``), once per process. Raises
    ConnectionError with one sentence when it cannot be reached, before the sweep folder is made."""
    import ray

    if ray.is_initialized():
        return
    options: dict[str, Any] = {}
    if address == "local":
        options["_temp_dir"] = str(_own_temp_dir())
    try:
        ray.init(address=None if address == "local" else address, include_dashboard=False,
                 log_to_driver=False, configure_logging=False, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        disconnect()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConnectionError(f"Could not reach the Ray instance at {address} ({first[:200]}); check --ray "
                              "(host:port of `ray start --head`) or use --ray local.") from None


def _own_temp_dir() -> Path:
    """A new temp folder for a local instance's session (and, in the environment, its auth token).

    Without a token Ray writes one to ~/.ray/auth_token; an existing ~/.ray is the user's and left alone.
    """
    base = tempfile.gettempdir()
    folder = Path(tempfile.mkdtemp(prefix="wb-ray-", dir=base if len(base) <= _MAX_TEMP_BASE_CHARS else "/tmp"))
    _made.append(folder)
    home_ray = Path.home() / ".ray"
    if not home_ray.exists():
        _made.append(home_ray)  # whatever Ray leaves there despite the token below was made by this run
    if not any(os.environ.get(k) for k in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE")):
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)  # token auth as Ray's default, kept off the disk
    return folder


def disconnect() -> None:
    """Leave (or stop, for ``local``) the Ray instance and remove the folders a local one created; safe twice."""
    ray = sys.modules.get("ray")  # never imported: nothing was started
    try:
        if ray is not None and ray.is_initialized():
            ray.shutdown()
    finally:
        while _made:
            shutil.rmtree(_made.pop(), ignore_errors=True)


def _tune_trial(params: dict[str, Any], jobs: dict[str, dict[str, Any]], scratch: str | None = None) -> None:
    # TensorFlow's autograph writes modules to the temp folder and removes them only at a normal exit, which a
    # Ray worker never has: they go to a folder of the trial's own, inside the local instance's (removed with it).
    own = tempfile.mkdtemp(prefix="trial-", dir=scratch if scratch and os.path.isdir(scratch) else None)
    previous, tempfile.tempdir = tempfile.tempdir, own
    try:
        _run_tune_trial(params, jobs)
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(own, ignore_errors=True)


def _run_tune_trial(params: dict[str, Any], jobs: dict[str, dict[str, Any]]) -> None:
    from ray import tune

    from workbench.core.sweeps.trial import run_trial

    total = jobs[params["trial"]]["epochs"]

    def report(epochs_done: int, value: float) -> bool:
        if epochs_done >= total:
            return True  # the last epoch is no rung: reported after the final save, with the results
        tune.report({"epoch": epochs_done, "val_top1": value if math.isfinite(value) else -1.0})
        return True  # Tune's scheduler stops a weak trial itself

    result = run_trial(jobs[params["trial"]], report)
    last = result.get("final_val_top1")
    tune.report({**{k: v for k, v in result.items() if v is not None}, "trial_done": True,
                 "epoch": result.get("epochs", 0), "val_top1": last if last is not None else -1.0})


def _as_result(metrics: dict[str, Any] | None, error: bool) -> dict[str, Any]:
    metrics = dict(metrics or {})
    if metrics.get("trial_done"):
        keys = ("status", "epochs", "pruned_at_epoch", "best_val_top1", "final_val_top1", "test_top1", "test_top5",
                "params", "device", "seconds", "model_path", "message")
        return {k: metrics.get(k) for k in keys}
    if error:
        return {"status": "failed", "message": "The Ray trial failed; its log is in the sweep's ray folder."}
    epoch = metrics.get("epoch")
    return {"status": "pruned", "pruned_at_epoch": epoch, "epochs": epoch or 0,
            "final_val_top1": metrics.get("val_top1"), "best_val_top1": metrics.get("val_top1"),
            "seconds": metrics.get("time_total_s")}


def run_ray(jobs: list[tuple[str, dict[str, Any]]], on_result: Callable[[str, dict[str, Any]], None],
            folder: Path, address: str, asha: dict[str, int] | None = None,
            deadline: float | None = None) -> None:
    import ray
    from ray import tune

    class _Collect(tune.Callback):
        """Hands each ended trial to ``on_result`` in this process, as it ends."""

        def on_trial_complete(self, iteration, trials, trial, **info) -> None:
            on_result(trial.config["trial"], _as_result(trial.last_result, error=False))

        def on_trial_error(self, iteration, trials, trial, **info) -> None:
            on_result(trial.config["trial"], _as_result(trial.last_result, error=True))

    connect(address)  # already connected by the caller, or now
    try:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        scheduler = None
        if asha is not None:
            scheduler = tune.schedulers.ASHAScheduler(
                # max_t one past the last epoch: at max_t Tune stops a trial, which would cut off its final save
                time_attr="epoch", metric="val_top1", mode="max", max_t=jobs[0][1]["epochs"] + 1,
                grace_period=asha["min_epochs"], reduction_factor=asha["eta"])
        table = dict(jobs)
        scratch = str(_made[0]) if _made else None  # the local instance's own temp folder (none on a cluster)
        tuner = tune.Tuner(
            tune.with_resources(tune.with_parameters(_tune_trial, jobs=table, scratch=scratch),
                                {"cpu": 1, "gpu": gpus}),
            param_space={"trial": tune.grid_search([t for t, _ in jobs])},
            tune_config=tune.TuneConfig(
                scheduler=scheduler, max_concurrent_trials=max(1, int(ray.cluster_resources().get("GPU", 0))) or 1,
                time_budget_s=max(1.0, deadline - time.monotonic()) if deadline is not None else None),
            run_config=tune.RunConfig(storage_path=str(Path(folder).resolve()), name=TUNE_DIR, verbose=0,
                                      callbacks=[_Collect()]),
        )
        tuner.fit()
    finally:
        disconnect()  # also an instance joined by cmd_sweep's connect(): this process is done with it
