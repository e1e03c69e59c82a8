"""Immutable events the training engine reports through a plain callback.

They cross threads (engine worker -> GUI), so they hold only plain Python values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrainingStarted:
    run_dir: str
    dataset: str
    arch: str
    device: str  # e.g. "GPU: NVIDIA H100 (1 device)" or "CPU (2 threads)"
    params: int
    epochs: int  # total epochs the run is aiming for
    initial_epoch: int  # 0 for a fresh run, >0 when resuming
    steps_per_epoch: int
    train_images: int
    val_images: int
    class_names: tuple[str, ...] = ()
    image_shape: tuple[int, int, int] = (32, 32, 3)  # height, width, channels the network takes
    augmentation: str = ""  # what augmentation does, in words (e.g. "crop only, no flips: ...")
    top5_note: str | None = None  # why top-5 is not measured (5 classes or fewer), None when it is
    # A fixed set of test images followed epoch by epoch (EpochEnded.probe_predictions).
    probe_indices: tuple[int, ...] = ()
    probe_labels: tuple[int, ...] = ()
    probe_images: Any = field(default=None, compare=False, repr=False)  # read-only uint8 N x H x W x C
    minutes: float | None = None  # a time budget: progress is then time, and ``epochs`` only a cap
    test_images: int = 0  # images of the final test
    final_passes: int = 0  # passes over the test images after the last epoch (confusion matrix, test, flip)


@dataclass(frozen=True)
class BatchProgress:
    epoch: int  # 0-based
    batch: int  # 1-based count of batches done in this epoch
    steps: int  # batches per epoch
    loss: float  # mean over the images since the previous BatchProgress of this epoch
    top1: float  # (not Keras' running mean since the epoch began: see callbacks/batch_monitor.py)
    top5: float  # NaN where top-5 is not measured (5 classes or fewer)
    images_per_sec: float
    elapsed: float  # seconds since the run started


# What runs after an epoch's last batch, in the order a run meets them (FinishingProgress.phase).
VALIDATING = "validating"  # every epoch: the validation images
CONFUSION = "confusion matrix"  # after the last epoch: the test images through the model for TensorBoard
TESTING = "testing"  # the final test
TESTING_FLIPPED = "testing with flips"  # the final test with test-time flip: two passes per image (six with shifts)
SAVING = "saving"  # model.h5 and best.h5
FINISHING_PHASES = (VALIDATING, CONFUSION, TESTING, TESTING_FLIPPED, SAVING)


@dataclass(frozen=True)
class FinishingProgress:
    """Work between an epoch's last batch and the next event (throttled like BatchProgress): so that the
    validation, the final test and the saving show progress instead of a frozen bar."""

    phase: str  # one of FINISHING_PHASES
    done: int  # images (files while saving) done in this phase
    total: int
    seconds: float  # since this phase began
    elapsed: float  # since the run started


@dataclass(frozen=True)
class EpochEnded:
    epoch: int  # 0-based
    epochs: int  # total epochs planned
    loss: float
    top1: float
    top5: float | None  # None where top-5 is not measured (5 classes or fewer)
    val_loss: float | None
    val_top1: float | None
    val_top5: float | None
    learning_rate: float
    seconds: float
    images_per_sec: float
    is_best: bool = False  # best validation (or training, when no validation) top-1 so far
    probe_predictions: tuple[int, ...] = ()  # predicted class of each probe image after this epoch
    probe_confidences: tuple[float, ...] = ()
    wall_seconds: float | None = None  # since training started: plots can use wall time as x
    images: int | None = None  # images trained in this epoch (fewer in one a time budget ended part-way)


@dataclass(frozen=True)
class TrainingFinished:
    run_dir: str
    model_path: str  # final model
    best_model_path: str | None
    epochs_completed: int
    test_top1: float | None
    test_top5: float | None
    test_loss: float | None = None
    wall_seconds: float | None = None  # wall time of all the run's parts (a resumed run's earlier ones too)


@dataclass(frozen=True)
class TrainingStopped:
    """The user asked to stop; what was trained so far is saved."""

    run_dir: str
    model_path: str | None
    epochs_completed: int
    test_top1: float | None = None
    test_top5: float | None = None
    wall_seconds: float | None = None  # wall time of all the run's parts


@dataclass(frozen=True)
class TrainingFailed:
    """Training could not go on. ``message`` is one readable sentence."""

    message: str
    run_dir: str | None = None
    diverged: bool = False  # loss became NaN or infinite
    model_path: str | None = None  # last good model kept, if any
    epochs_completed: int = 0
    details: str = field(default="", compare=False)  # traceback text for a log, never shown alone
    out_of_memory: bool = False  # the device ran out of memory (oom.py retries with a smaller batch)


@dataclass(frozen=True)
class BatchSizeReduced:
    """The device ran out of memory; the run goes on with half the batch (and half the learning rate)."""

    message: str  # one sentence for the log
    old_batch_size: int
    batch_size: int
    learning_rate: float
    from_epoch: int  # the 0-based epoch training continues with


TrainingEvent = (
    TrainingStarted | BatchProgress | FinishingProgress | EpochEnded | TrainingFinished | TrainingStopped
    | TrainingFailed | BatchSizeReduced
)
