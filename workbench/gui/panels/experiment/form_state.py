"""The experiment form's settings as one plain object without Qt: the form's widgets write to it and are
drawn from it; it makes the run's TrainConfig, is filled from a config (an earlier run's, a recipe's),
and is saved and restored as one thing. Bounds and choices live here once: the widgets are built with
them and saved values are checked against them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Collection, Mapping

from workbench.core.architectures import ARCHITECTURES, resolve_options
from workbench.core.datasets import get_info
from workbench.core.training.config import (
    BUDGET_EPOCH_CAP,
    FLIPS,
    LR_SCHEDULES,
    MAX_TRANSLATE,
    MODEL_FORMATS,
    OPTIMIZERS,
    PADDINGS,
    TrainConfig,
)
from workbench.core.training.recipes import RECIPES, apply_recipe, edited_fields
from workbench.gui.panels.experiment.params import ParamKey
from workbench.gui.setting_values import checked_value

NO_RECIPE = ""  # the recipe chooser's "none": the form's own settings
DEVICE_FIELDS = ("mixed_precision", "xla", "steps_per_execution", "data_on_device")
# Recipe settings with no box in the form (airbench's pieces): kept from the recipe or run that filled it.
KEPT_FIELDS: dict[str, tuple[float, float] | None] = {"tta_shift": (0, 4), "bias_lr_scale": (0.001, 1000.0),
                                                      "lookahead": None}
DEVICE_RANGE = (1, 1024)  # an integer hardware setting (steps per execution)

# The form's bounds (the spin boxes' ranges; saved values outside them are refused).
RANGES: dict[str, tuple[float, float]] = {
    "epochs": (1, 10_000),
    "batch_size": (1, 65_536),
    "val_split": (0, 90),  # percent
    "seed": (0, 2**31 - 1),
    "limit": (0, 10_000_000),  # 0 = all images
    "early_stopping": (0, 1000),  # 0 = off
    "learning_rate": (1e-6, 10.0),
    "label_smoothing": (0.0, 0.5),
    "minutes": (0.0, 7 * 24 * 60.0),  # 0 = off
    "weight_decay": (0.0, 1.0),
    "cutout": (0, 64),
    "ema": (0.0, 0.9999),
    "translate": (0, MAX_TRANSLATE),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "arch": tuple(ARCHITECTURES),
    "optimizer": OPTIMIZERS,
    "lr_schedule": LR_SCHEDULES,
    "model_format": MODEL_FORMATS,
    "recipe": (NO_RECIPE, *RECIPES),
    "flip": FLIPS,
    "padding": PADDINGS,
}
_DEFAULTS = TrainConfig()
# Settings a TrainConfig holds under the same name and in the same unit as the form.
_SAME_IN_CONFIG = ("batch_size", "optimizer", "learning_rate", "lr_schedule", "augment", "cutout", "label_smoothing",
                   "weight_decay", "ema", "tta_flip", "seed", "model_format", "flip", "translate", "padding")


@dataclass
class FormState:
    """Every setting of the experiment form. Field names are the keys it is saved under; ``val_split`` is
    in percent, and 0 means "off" for ``minutes`` and "all images" for ``limit``."""

    dataset: str = _DEFAULTS.dataset
    arch: str = CHOICES["arch"][0]
    epochs: int = _DEFAULTS.epochs
    minutes: float = 0.0
    batch_size: int = _DEFAULTS.batch_size
    optimizer: str = OPTIMIZERS[0]
    learning_rate: float = _DEFAULTS.learning_rate
    lr_schedule: str = LR_SCHEDULES[0]
    val_split: int = int(round(_DEFAULTS.val_split * 100))
    augment: bool = False
    cutout: int = 0
    label_smoothing: float = 0.0
    weight_decay: float = 0.0
    ema: float = 0.0
    tta_flip: bool = False
    early_stopping: int = 0
    seed: int = 0
    limit: int = 0
    model_format: str = MODEL_FORMATS[0]
    # Augmentation details with no box in the form: kept from the recipe or run that filled it.
    flip: str = _DEFAULTS.flip
    translate: int = _DEFAULTS.translate
    padding: str = _DEFAULTS.padding
    recipe: str = NO_RECIPE  # the recipe the form was last filled from
    # Hardware settings with no box in the form: kept from the recipe or run that filled it.
    device: dict[str, Any] = field(default_factory=lambda: {k: getattr(_DEFAULTS, k) for k in DEVICE_FIELDS})
    kept: dict[str, Any] = field(default_factory=lambda: {k: getattr(_DEFAULTS, k) for k in KEPT_FIELDS})
    options_by_arch: dict[str, dict[str, Any]] = field(default_factory=dict)  # edited options, kept across switches
    data_dir: str | None = None
    # Set by the window, never saved: where runs go and how many test images the final evaluation uses.
    runs_root: str | None = None
    test_limit: int | None = None

    # --- the run's config -----------------------------------------------------------------------
    def options(self) -> dict[str, Any]:
        """The chosen architecture's options that differ from its defaults (what a run's config records)."""
        defaults = ARCHITECTURES[self.arch].options
        return {k: v for k, v in self.options_by_arch.get(self.arch, {}).items()
                if k in defaults and v != defaults[k]}

    def option_values(self) -> dict[str, Any]:
        """Every option of the chosen architecture: its defaults with the edits on top."""
        return {**ARCHITECTURES[self.arch].options, **self.options()}

    def to_config(self) -> TrainConfig:
        """The form as a TrainConfig (raises ValueError with a readable sentence if a value is invalid)."""
        minutes = float(self.minutes) or None
        return TrainConfig(
            dataset=self.dataset,
            arch=self.arch,
            epochs=BUDGET_EPOCH_CAP if minutes else self.epochs,
            minutes=minutes,
            recipe=self.recipe,
            weight_decay=float(self.weight_decay),
            cutout=self.cutout,
            ema=float(self.ema),
            tta_flip=self.tta_flip,
            batch_size=self.batch_size,
            optimizer=self.optimizer,
            learning_rate=float(self.learning_rate),
            val_split=self.val_split / 100.0,
            augment=self.augment,
            lr_schedule=self.lr_schedule,
            label_smoothing=float(self.label_smoothing),
            early_stopping_patience=self.early_stopping,
            seed=self.seed,
            limit=self.limit or None,
            test_limit=self.test_limit,
            data_dir=self.data_dir,
            runs_root=self.runs_root,
            model_format=self.model_format,
            flip=self.flip,
            translate=self.translate,
            padding=self.padding,
            arch_options=self.options(),
            **self.device,
            **self.kept,
        )

    def fill_from_config(self, config: TrainConfig) -> None:
        """Take a config's settings (an earlier run's); where the data is and where runs go stay."""
        self.dataset = config.dataset
        if config.arch in ARCHITECTURES:  # (an unknown one keeps the form's network)
            self.arch = config.arch
            self.options_by_arch[config.arch] = dict(config.arch_options)
        self.minutes = config.minutes or 0.0
        if not config.minutes:  # under a budget the epoch count is only a cap: the form's own stays
            self.epochs = config.epochs
        for name in _SAME_IN_CONFIG:
            setattr(self, name, getattr(config, name))
        self.val_split = int(round(config.val_split * 100))
        self.early_stopping = config.early_stopping_patience
        self.limit = config.limit or 0
        self.device = {k: getattr(config, k) for k in DEVICE_FIELDS}
        self.kept = {k: getattr(config, k) for k in KEPT_FIELDS}
        self.recipe = config.recipe if config.recipe in RECIPES else NO_RECIPE

    def choose_recipe(self, name: str) -> None:
        """Fill from recipe ``name`` (dataset, data limits and seed stay); NO_RECIPE keeps the settings."""
        base = self.to_config()
        self.fill_from_config(apply_recipe(name, {"minutes": base.minutes}, base=base) if name
                              else base.replace(recipe=NO_RECIPE))

    def recipe_note(self) -> tuple[str, bool]:
        """The line under the recipe chooser, and whether the form departs from its recipe."""
        if self.recipe == NO_RECIPE:
            return "", False
        try:
            edited = edited_fields(self.to_config())
        except ValueError:
            edited = ["an invalid value"]
        words = ", ".join(name.replace("_", " ") for name in edited)
        return (f"{self.recipe} (edited: {words})" if edited else
                f"{self.recipe}: {RECIPES[self.recipe].summary}"), bool(edited)

    def param_key(self) -> ParamKey:
        """What the parameter count depends on: network, classes, image shape and every option."""
        info = get_info(self.dataset)
        return (self.arch, info.num_classes, tuple(info.image_shape), tuple(sorted(self.option_values().items())))

    # --- saving ---------------------------------------------------------------------------------
    def saved(self) -> dict[str, Any]:
        """The settings as remembered between launches: plain values under their keys."""
        values = {f.name: getattr(self, f.name) for f in fields(self)
                  if f.name not in ("device", "kept", "options_by_arch", "data_dir", "runs_root", "test_limit")}
        for key in ("learning_rate", "label_smoothing", "minutes", "weight_decay", "ema"):
            values[key] = float(values[key])
        values.update(self.device)
        values.update(self.kept)
        values["data_dir"] = self.data_dir or ""
        values["arch_options"] = json.dumps({k: v for k, v in self.options_by_arch.items() if v})
        return values

    def restore(self, saved: Mapping[str, Any], datasets: Collection[str]) -> list[str]:
        """Take remembered settings (raw, as ``saved()`` wrote them or a user edited them); each value of the
        wrong type, out of bounds or not a choice (``datasets``: the ids on offer) keeps the current one.
        Returns the keys that were refused."""
        refused: list[str] = []

        def read(key: str, default: Any, **check: Any) -> Any:
            if key not in saved:
                return default
            try:
                return checked_value(saved[key], default, **check)
            except ValueError:
                refused.append(key)
                return default

        text = read("arch_options", "")
        self.options_by_arch = stored_options(text)
        if text and len(self.options_by_arch) < len(_json_object(text)):
            refused.append("arch_options")
        self.dataset = read("dataset", self.dataset, choices=datasets)
        for key in ("arch", "optimizer", "lr_schedule", "model_format", "flip", "padding"):
            setattr(self, key, read(key, getattr(self, key), choices=CHOICES[key]))
        for key, (lo, hi) in RANGES.items():
            setattr(self, key, read(key, getattr(self, key), lo=lo, hi=hi))
        for key in ("augment", "tta_flip"):
            setattr(self, key, read(key, getattr(self, key)))
        for key, value in list(self.device.items()):
            self.device[key] = (read(key, value) if isinstance(value, bool)
                                else read(key, value, lo=DEVICE_RANGE[0], hi=DEVICE_RANGE[1]))
        for key, bounds in KEPT_FIELDS.items():
            value = self.kept[key]
            self.kept[key] = read(key, value) if bounds is None else read(key, value, lo=bounds[0], hi=bounds[1])
        self.recipe = read("recipe", NO_RECIPE, choices=CHOICES["recipe"])
        self.data_dir = read("data_dir", "") or None
        return refused


def _json_object(text: str) -> dict:
    """``text`` parsed as a JSON object, or {} when it is not one."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {"": None}  # unreadable: one entry that cannot be kept, so the caller notes it
    return data if isinstance(data, dict) else {"": None}


def stored_options(text: str) -> dict[str, dict[str, Any]]:
    """Per-architecture options saved as JSON; anything unreadable or unknown is dropped."""
    data = _json_object(text)
    out: dict[str, dict[str, Any]] = {}
    for arch, options in data.items():
        if not isinstance(options, dict):
            continue
        try:  # the core's checks: known architecture and options, right types, within bounds
            resolved = resolve_options(arch, **options)
        except (TypeError, ValueError, KeyError):
            continue
        out[arch] = {k: resolved[k] for k in options}
    return out
