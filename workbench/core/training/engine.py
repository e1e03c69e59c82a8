"""``train(config, on_event, stop)``: one training run from a TrainConfig to a final event.

Qt-free and safe to call on a worker thread. TensorFlow is imported inside ``train``. Events go
to the plain ``on_event`` callback; the run ends with exactly one of TrainingFinished,
TrainingStopped or TrainingFailed, which is also returned. Bad input never raises: it becomes
TrainingFailed with one readable sentence.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import traceback
from typing import Any, Callable

from workbench.core.tf_import import ensure_tensorflow
from workbench.core.training.checkpoint import CheckpointError, CheckpointWriter, load_checkpoint, snapshot
from workbench.core.training.config import TrainConfig
from workbench.core.training.errors import (
    OUT_OF_MEMORY_SENTENCE,
    TrainingError,
    is_out_of_memory,
    write_failure_sentence,
)
from workbench.core.training.events import TrainingEvent, TrainingFailed, TrainingStarted
from workbench.core.training.finish import (
    kept_model_sentence,
    outcome,
    save_best,
    save_last_good,
    uses_flip,
    write_result,
)
from workbench.core.training.inputs import augmentation_text, input_problem_for
from workbench.core.training.phase_progress import PROGRESS_INTERVAL_S, PhaseProgress
from workbench.core.training.rundir import HISTORY_FILE, LOGS_DIR, HistoryWriter
from workbench.core.training.session import RunSession, check_run_folder, claim_run_dir, discard_empty_run, write_config
from workbench.core.training.topk import TOP_K, top5_meaningful, top5_note
from workbench.core.training.tta import view_count



def train(
    config: TrainConfig,
    on_event: Callable[[TrainingEvent], None] | None = None,
    stop: threading.Event | None = None,
) -> TrainingEvent:
    """Train, reporting events to ``on_event``; return the final event (never raises for bad input)."""
    emit = on_event or (lambda event: None)
    run = RunSession(config)
    try:
        try:
            final = _train(run, emit, stop)
        except Exception as exc:  # every failure ends as an event, never as a traceback
            final = _failed(run, exc)
        finally:
            if run.restore_policy is not None:
                _restore_dtype_policy(run.restore_policy)
        if isinstance(final, TrainingFailed) and discard_empty_run(run):
            final = dataclasses.replace(final, run_dir=None)  # a new run that completed nothing leaves nothing
        else:
            write_result(run, final)  # only into a folder this run owns: a refused run writes nothing
    finally:
        run.release()
    try:
        emit(final)
    except Exception:
        pass  # the run is over and its files are written; a failing receiver changes nothing
    return final


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _failed(run: RunSession, exc: Exception) -> TrainingFailed:
    from workbench.core.datasets import DatasetError

    readable = isinstance(exc, (TrainingError, CheckpointError, DatasetError, ValueError, OSError))
    message = _sentence(exc) if readable else f"Training failed: {_sentence(exc)}"
    from workbench.paths import default_runs_root

    folder = run.run_dir or run.config.run_dir or run.config.runs_root or default_runs_root()
    disk = write_failure_sentence(exc, folder)
    if disk is not None:  # full disk, read-only or locked-down folder: say so, not "[Errno 28] ..."
        message = disk
    out_of_memory = is_out_of_memory(exc)
    if out_of_memory:
        message = OUT_OF_MEMORY_SENTENCE
    model_path = None
    state = run.state
    if run.model is not None and state is not None and state.last_saved_epoch is not None:
        try:  # a crashed run keeps its last completed epoch as a usable model, and its best one
            model_path = str(save_last_good(run))
            save_best(run)
        except Exception:
            pass  # e.g. the disk is still full: the checkpoint keeps the epoch for a resume
        message = f"{message} {kept_model_sentence(run, model_path)}"
    return TrainingFailed(
        message=message,
        run_dir=str(run.run_dir) if run.run_dir else None,
        model_path=model_path,
        epochs_completed=state.epochs_completed if state else run.initial_epoch,
        details=traceback.format_exc(),
        out_of_memory=out_of_memory,
    )


def _restore_dtype_policy(policy: Any) -> None:
    import keras

    keras.config.set_dtype_policy(policy)


def _check_inputs(config: TrainConfig) -> None:
    from workbench.core.architectures import resolve_options
    from workbench.core.datasets import DatasetError, get_info

    try:
        get_info(config.dataset)  # a built-in id, a user dataset's name or an image folder / archive
    except DatasetError as exc:
        raise TrainingError(str(exc)) from None
    resolve_options(config.arch, **config.arch_options)  # ValueError names the bad name or option
    problem = input_problem_for(config)  # before the data or TensorFlow loads: nothing is written
    if problem:
        raise TrainingError(problem)
    check_run_folder(config)  # before the dataset loads: a refused folder is refused at once


def _build(run: RunSession, setup: Any, num_classes: int, image_shape: tuple[int, int, int]) -> None:
    from workbench.core.architectures import build_model
    from workbench.core.metrics import TopKAccuracy
    from workbench.core.training.optim import make_loss, make_optimizer

    config = run.config
    metrics = [TopKAccuracy(k=1, name="top1")]
    if top5_meaningful(num_classes):  # with 5 classes or fewer top-5 is always 1: not measured at all
        metrics.append(TopKAccuracy(k=TOP_K, name="top5"))
    with setup.strategy.scope():
        model = build_model(config.arch, num_classes, input_shape=image_shape, **config.arch_options)
        model.compile(
            optimizer=make_optimizer(config, run.splits.steps_per_epoch),
            loss=make_loss(config, num_classes),
            metrics=metrics,
            jit_compile=config.xla, steps_per_execution=config.steps_per_execution,
        )
        run.model = model
        if run.splits.device_feed is not None:
            run.splits.device_feed.install(model)
        if config.resume:
            run.best_weights = load_checkpoint(model, run.run_dir)["best_weights"]
            # A schedule's position counts this batch size's steps: the same after a changed batch size.
            model.optimizer.iterations.assign(run.initial_epoch * run.splits.steps_per_epoch)
            if config.ema > 0:  # checkpoints are taken with the average swapped in (callbacks/averaging.py)
                from workbench.core.training.callbacks.averaging import swap_average

                swap_average(model)
            if config.lr_schedule == "constant":
                model.optimizer.learning_rate = config.learning_rate  # the rate asked for now applies


def _train(run: RunSession, emit: Callable[[Any], None], stop: threading.Event | None) -> TrainingEvent:
    config = run.config
    _check_inputs(config)  # a refused run is refused before TensorFlow or the data load
    ensure_tensorflow()
    from workbench.core.datasets import load_dataset

    data = load_dataset(config.dataset, config.data_dir)
    run.class_names = tuple(data.class_names)
    run.dataset_info, run.image_shape = data.info, tuple(data.image_shape)
    from workbench.core.training.probes import choose_probes

    run.probes = choose_probes(data.x_test, data.y_test)
    claim_run_dir(run)

    import keras

    from workbench.core.training.devices import configure_devices
    from workbench.core.training.pipeline import make_splits

    # No keras.backend.clear_session(): it resets Keras state for every thread, including a GUI's
    # inference thread; an earlier run's model is freed once nothing refers to it.
    setup = configure_devices(config.mixed_precision)
    if setup.mixed_precision:
        run.restore_policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy(setup.precision)
    # A resumed run gets fresh dropout masks, not a replay of epoch 0's (its batches follow from the epoch).
    keras.utils.set_random_seed(config.seed + run.initial_epoch)
    run.splits = make_splits(
        data, val_split=config.val_split, seed=config.seed, batch_size=config.batch_size,
        augment=config.augment, limit=config.limit, test_limit=config.test_limit, cutout_size=config.cutout,
        flip=config.flip, translate=config.translate, padding=config.padding, initial_epoch=run.initial_epoch,
        # Several replicas split each batch among themselves: they get the host pipeline (the same batches).
        data_on_device=config.data_on_device and setup.replicas == 1,
    )
    _build(run, setup, data.num_classes, data.image_shape)
    if not config.resume:  # a resumed run's whitening layer comes back with its checkpoint
        _whiten_from_training_images(run, data)
    run.device = setup.description
    params = int(run.model.count_params())
    write_config(run, setup, run.splits, params)
    return _fit(run, emit, stop, params)


def _whiten_from_training_images(run: RunSession, data: Any) -> None:
    """Set a whitening stem (airnet's ``whiten``) from the training images only: never the held-out ones."""
    import numpy as np

    from workbench.core.architectures.whitening import WHITEN_IMAGES, init_whitening
    from workbench.core.training.pipeline import split_indices

    if not any(layer.name == "whiten" for layer in run.model.layers):
        return
    config = run.config
    train_idx, _ = split_indices(len(data.x_train), config.val_split, config.seed, config.limit)
    rng = np.random.default_rng(config.seed)  # a sample: the covariance of 5,000 images is as good as of all
    pick = np.sort(rng.choice(train_idx, min(len(train_idx), WHITEN_IMAGES), replace=False))
    init_whitening(run.model, data.x_train[pick])


def _callbacks(run: RunSession, emit: Callable[[Any], None], stop: threading.Event | None) -> list[Any]:
    import keras

    from workbench.core.training.callbacks.batch_monitor import BatchMonitor
    from workbench.core.training.callbacks.data_epoch import EpochFeed
    from workbench.core.training.callbacks.early_stop import EarlyStopper
    from workbench.core.training.callbacks.epoch_recorder import EpochRecorder
    from workbench.core.training.callbacks.fault import simulated_faults
    from workbench.core.training.callbacks.tensorboard import EpochScalars, hparam_values
    from workbench.core.training.optim import PLATEAU_FACTOR, PLATEAU_PATIENCE

    config, state = run.config, run.state
    history = HistoryWriter(run.run_dir / HISTORY_FILE, keep_epochs_below=run.initial_epoch if config.resume else None)

    def save_checkpoint_for(epoch: int, arrays: Any, is_best: bool) -> None:
        if is_best:
            run.best_weights = arrays[0]  # the host copy just taken: no second copy
        run.checkpoints.save(arrays, {
            "epoch": epoch, "best_value": state.best_value if math.isfinite(state.best_value) else None,
            "best_epoch": state.best_epoch,
        }, run.best_weights)

    take_snapshot = lambda: snapshot(run.model)  # noqa: E731
    callbacks = [EpochFeed(run.splits.epoch),  # first: the epoch's batches are chosen before anything else runs
                 BatchMonitor(state, emit, stop, PROGRESS_INTERVAL_S, write_failed=run.checkpoints.failed,
                              val_images=run.splits.val_images if run.splits.val is not None else 0)]
    if config.lookahead:  # before the recorder: an epoch's checkpoint holds the slow weights it ends on
        from workbench.core.training.callbacks.lookahead import Lookahead

        callbacks.append(Lookahead(getattr(run.model.optimizer, "_learning_rate", None),
                                   config.epochs * run.splits.steps_per_epoch))
    if config.ema > 0:
        from workbench.core.training.callbacks.averaging import ValidateOnAverage, averaged_snapshot

        callbacks.append(ValidateOnAverage())
        take_snapshot = lambda: averaged_snapshot(run.model)  # noqa: E731
    callbacks.append(EpochRecorder(state, emit, history, epochs=config.epochs, snapshot=take_snapshot,
                                   save_checkpoint=save_checkpoint_for, probes=run.probes))
    if config.minutes is not None:  # after the recorder: the last epoch is recorded before the run ends
        from workbench.core.training.callbacks.time_budget import TimeBudget

        run.time_budget = TimeBudget(config.minutes * 60, run.splits.steps_per_epoch, config.epochs,
                                     getattr(run.model.optimizer, "_learning_rate", None))
        callbacks.append(run.time_budget)
    monitor = "val_top1" if run.splits.val is not None else "top1"
    if config.early_stopping_patience > 0:
        run.early_stopper = EarlyStopper(state, config.early_stopping_patience, monitor=monitor)
        callbacks.append(run.early_stopper)
    if config.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss" if run.splits.val is not None else "loss",
            factor=PLATEAU_FACTOR, patience=PLATEAU_PATIENCE, min_lr=config.learning_rate * 1e-3,
        ))
    callbacks.append(EpochScalars(str(run.run_dir / LOGS_DIR), state, hparams=hparam_values(config.to_dict()),
                                  probes=run.probes, test=run.splits.test,
                                  test_progress=PhaseProgress(emit, state.started, PROGRESS_INTERVAL_S),
                                  test_images=run.splits.test_images))
    callbacks.extend(simulated_faults(config))  # empty unless a test asks for an out-of-memory error
    return callbacks


def _fit(run: RunSession, emit: Callable[[Any], None], stop: threading.Event | None, params: int) -> TrainingEvent:
    from workbench.core.training.callbacks.lean_list import LeanCallbackList
    from workbench.core.training.callbacks.state import RunState

    config, splits = run.config, run.splits
    run.state = state = RunState(
        steps_per_epoch=splits.steps_per_epoch, train_images=splits.train_images, batch_size=config.batch_size,
        epochs_completed=run.initial_epoch,
        last_saved_epoch=run.initial_epoch - 1 if config.resume else None,
    )
    if config.resume and run.extra.get("best_value") is not None:
        state.best_value = float(run.extra["best_value"])
        state.best_epoch = run.extra.get("best_epoch")
    run.checkpoints = CheckpointWriter(run.run_dir)
    callbacks = LeanCallbackList(
        _callbacks(run, emit, stop), add_history=True, add_progbar=False, model=run.model,
        verbose=0, epochs=config.epochs, steps=splits.steps_per_epoch,
    )
    emit(TrainingStarted(
        run_dir=str(run.run_dir), dataset=config.dataset, arch=config.arch, device=run.device, params=params,
        epochs=config.epochs, initial_epoch=run.initial_epoch, steps_per_epoch=splits.steps_per_epoch,
        train_images=splits.train_images, val_images=splits.val_images, class_names=run.class_names,
        image_shape=tuple(run.image_shape), augmentation=augmentation_text(run.dataset_info, config),
        top5_note=top5_note(len(run.class_names)),
        probe_indices=run.probes.indices if run.probes else (),
        probe_labels=run.probes.labels if run.probes else (),
        probe_images=run.probes.images if run.probes else None, minutes=config.minutes,
        test_images=splits.test_images if splits.test is not None else 0,
        final_passes=(1 + (view_count(config.tta_shift) if uses_flip(run) else 1)) if splits.test is not None else 0,
    ))
    try:
        if run.initial_epoch < config.epochs:  # else a crash hit the final save: only the files are left to write
            run.model.fit(
                splits.train, validation_data=splits.val, epochs=config.epochs, initial_epoch=run.initial_epoch,
                callbacks=callbacks, verbose=0, shuffle=False,
            )
    finally:
        run.checkpoints.wait()  # the last epoch's checkpoint is on disk before the run reports its end
    return outcome(run, PhaseProgress(emit, state.started, PROGRESS_INTERVAL_S))


