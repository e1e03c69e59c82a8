"""Everything needed to repeat a training run, as one immutable value."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")
LR_SCHEDULES = ("constant", "cosine", "step", "plateau", "one_cycle", "warmup_cosine", "triangle")
MAX_TTA_SHIFT = 4  # pixels; test views shifted further show mostly padding
MODEL_FORMATS = ("h5", "keras")
FLIPS = ("random", "alternate")  # per image and epoch at p 0.5; or airbench's: a seeded start, then every epoch
PADDINGS = ("zero", "reflect")  # what a translation uncovers
MAX_TRANSLATE = 8  # pixels; reflection needs a shift smaller than the image (28-pixel digits are the smallest)
MAX_CUTOUT = 64  # pixels; larger squares blank whole small images
MAX_MINUTES = 7 * 24 * 60.0  # a week: beyond that a time budget is a typo
MAX_SEED = 2**32 - 1  # NumPy's and TensorFlow's seeds are unsigned 32-bit numbers
BUDGET_EPOCH_CAP = 1000  # a time-budget run with no epoch count of its own: the clock decides, this bounds it


@dataclass(frozen=True)
class TrainConfig:
    # Defaults follow the course report: Adam, batch 256, 30 epochs, 20 % validation.
    dataset: str = "cifar10"
    arch: str = "simple_cnn"
    epochs: int = 30
    batch_size: int = 256
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    val_split: float = 0.2
    augment: bool = False  # random crop (translate, padding) + horizontal flip (where the dataset is mirror-safe)
    lr_schedule: str = "constant"
    label_smoothing: float = 0.0
    early_stopping_patience: int = 0  # 0 = off; epochs without val improvement before stopping
    seed: int = 0
    limit: int | None = None  # cap on training images (quick tries)
    test_limit: int | None = None  # cap on test images evaluated at the end
    data_dir: str | None = None
    runs_root: str | None = None  # parent folder of run directories (None = default)
    run_dir: str | None = None  # explicit run directory (overrides runs_root)
    mixed_precision: bool = False  # float16 on a GPU, bfloat16 on a CPU that computes it natively, else off
    model_format: str = "h5"
    arch_options: dict[str, Any] = field(default_factory=dict)
    resume: bool = False  # continue run_dir from its last completed epoch
    weight_decay: float = 0.0  # decoupled weight decay applied by the optimizer (0 = off)
    cutout: int = 0  # side in pixels of one random square blanked per training image (0 = off)
    ema: float = 0.0  # momentum of the weight average used to validate and save (0 = off; e.g. 0.99)
    tta_flip: bool = False  # the final test averages predictions on each image and its mirror (mirror-safe data)
    tta_shift: int = 0  # with tta_flip: also views shifted this many pixels up-left and down-right (airbench's 6 views)
    bias_lr_scale: float = 1.0  # batch-norm shifts learn this many times faster (airbench: 64); SGD only, others ignore it
    lookahead: bool = False  # airbench's lookahead: every 5 steps pull the weights toward a slow average
    minutes: float | None = None  # time budget: the schedule is fitted to end by then (epochs become a cap)
    recipe: str = ""  # name of the recipe the settings started from ("" = none); the fields are what ran
    xla: bool = False  # compile training steps with XLA (measured: no gain on a 2-core CPU)
    steps_per_execution: int = 1  # training steps per call into TensorFlow (more helps small steps on a GPU)
    flip: str = "random"  # with augment, on mirror-safe data: "random" (p 0.5 each epoch) or "alternate" (airbench)
    translate: int = 4  # with augment: the most pixels an image is shifted each way (0 = none)
    padding: str = "zero"  # what a shift uncovers: "zero" or "reflect" (airbench: translate 2, reflect)
    data_on_device: bool = False  # training images kept and augmented on the accelerator (single-device runs)

    def __post_init__(self) -> None:
        # The one validation path: an invalid TrainConfig cannot exist, so nobody checks one again.
        problems = self.problems()
        if problems:
            raise ValueError(problems[0])

    def problems(self) -> list[str]:
        """Readable sentences for every invalid setting (empty when valid); the constructor raises the first."""
        out = []
        if self.epochs < 1:
            out.append(f"Epochs must be at least 1 (got {self.epochs}).")
        if self.batch_size < 1:
            out.append(f"Batch size must be at least 1 (got {self.batch_size}).")
        if not (self.learning_rate > 0):
            out.append(f"Learning rate must be positive (got {self.learning_rate}).")
        if not (0.0 <= self.val_split < 1.0):
            out.append(f"Validation split must be in [0, 1) (got {self.val_split}).")
        if self.optimizer not in OPTIMIZERS:
            out.append(f"Unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}.")
        if self.lr_schedule not in LR_SCHEDULES:
            out.append(
                f"Unknown learning-rate schedule {self.lr_schedule!r}; choose one of {', '.join(LR_SCHEDULES)}."
            )
        if not (0.0 <= self.label_smoothing < 1.0):
            out.append(f"Label smoothing must be in [0, 1) (got {self.label_smoothing}).")
        if self.early_stopping_patience < 0:
            out.append(f"Early-stopping patience must be 0 (off) or more (got {self.early_stopping_patience}).")
        if self.limit is not None and self.limit < 1:
            out.append(f"--limit must be at least 1 (got {self.limit}).")
        if self.test_limit is not None and self.test_limit < 0:
            out.append(f"The test limit must be 0 or more (got {self.test_limit}).")
        if not (0 <= self.seed <= MAX_SEED):
            out.append(f"The seed must be between 0 and {MAX_SEED} (got {self.seed}).")
        if not (self.weight_decay >= 0):
            out.append(f"Weight decay must be 0 or more (got {self.weight_decay}).")
        if not (0 <= self.cutout <= MAX_CUTOUT):
            out.append(f"Cutout must be between 0 (off) and {MAX_CUTOUT} pixels (got {self.cutout}).")
        if not (0.0 <= self.ema < 1.0):
            out.append(f"The weight-average momentum must be in [0, 1) (got {self.ema}); 0 switches it off.")
        if self.minutes is not None and not (0 < self.minutes <= MAX_MINUTES):
            out.append(f"The time budget must be more than 0 and at most {MAX_MINUTES:g} minutes (got {self.minutes}).")
        if not (0 <= self.tta_shift <= MAX_TTA_SHIFT):
            out.append(f"The test-time shift must be between 0 (off) and {MAX_TTA_SHIFT} pixels (got {self.tta_shift}).")
        if not (0 < self.bias_lr_scale <= 1000):
            out.append(f"The batch-norm shift's rate multiplier must be above 0 and at most 1000 (got {self.bias_lr_scale}).")
        if self.steps_per_execution < 1:
            out.append(f"Steps per execution must be at least 1 (got {self.steps_per_execution}).")
        if self.flip not in FLIPS:
            out.append(f"Flip must be one of {', '.join(FLIPS)} (got {self.flip!r}).")
        if not (0 <= self.translate <= MAX_TRANSLATE):
            out.append(f"Translation must be between 0 (off) and {MAX_TRANSLATE} pixels (got {self.translate}).")
        if self.padding not in PADDINGS:
            out.append(f"Padding must be one of {', '.join(PADDINGS)} (got {self.padding!r}).")
        if self.model_format not in MODEL_FORMATS:
            out.append(f"Model format must be one of {', '.join(MODEL_FORMATS)} (got {self.model_format!r}).")
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)
