"""What a sweep varies and how: parsing ``NAME=V1,V2`` (grid) and ``NAME=LO:HI[:log]`` (random), and the trials.

Names are TrainConfig fields or their ``train`` flags (``lr``, ``batch-size``) and ``option.NAME`` for
an architecture option. Every problem is one sentence naming the setting and what to do.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
import typing
from dataclasses import dataclass
from typing import Any

from workbench.core.training.config import TrainConfig

MAX_TRIALS = 1000  # a sweep this large is a typo, not a plan: refuse before creating a thousand folders
OPTION_PREFIX = "option."
# Fields that say where or how a run is kept, not what it learns: a sweep sets them itself.
NOT_SWEEPABLE = ("run_dir", "runs_root", "resume", "data_dir", "arch_options")
# The `train` flags whose names differ from the field they set.
FLAG_ALIASES = {"lr": "learning_rate", "early_stopping": "early_stopping_patience", "format": "model_format"}


class SweepSpecError(ValueError):
    """A bad sweep setting, as one readable sentence."""


@dataclass(frozen=True)
class Axis:
    name: str  # TrainConfig field, or "option.NAME"
    values: tuple[Any, ...] = ()  # grid values
    low: float | None = None  # random range
    high: float | None = None
    log: bool = False


@dataclass(frozen=True)
class SweepSpec:
    base: TrainConfig
    grid: tuple[Axis, ...] = ()
    random: tuple[Axis, ...] = ()
    trials: int = 1  # random draws (per grid point)
    seed: int = 0
    minutes: float | None = None  # no new trial starts after this

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base.to_dict(), "grid": [dataclasses.asdict(a) for a in self.grid],
                "random": [dataclasses.asdict(a) for a in self.random], "trials": self.trials,
                "seed": self.seed, "minutes": self.minutes}

    @property
    def log_scaled(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.random if a.log)


def _field_name(name: str, kind: str) -> str:
    if name.startswith(OPTION_PREFIX) and len(name) > len(OPTION_PREFIX):
        return name
    field_name = FLAG_ALIASES.get(name.replace("-", "_"), name.replace("-", "_"))
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    if field_name not in fields or field_name in NOT_SWEEPABLE:
        choices = ", ".join(sorted(fields - set(NOT_SWEEPABLE)))
        what = "a sweep can vary" if kind in ("--grid", "--random") else "that can be set"
        raise SweepSpecError(f"{kind} {name!r} is not a setting {what}; use one of {choices}, "
                             f"or option.NAME for an architecture option.")
    return field_name


def _field_type(name: str) -> type:
    if name.startswith(OPTION_PREFIX):
        return str  # architecture options are parsed by the architecture (as the `train --option` flag does)
    hint = typing.get_type_hints(TrainConfig)[name]
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] or [hint]  # `int | None` -> int
    return kinds[0] if kinds[0] in (bool, int, float) else str


def _convert(name: str, text: str, flag: str) -> Any:
    kind = _field_type(name)
    text = text.strip()
    try:
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError
            return text.lower() in ("true", "1", "yes", "on")
        if kind is int:
            return int(text)
        if kind is float:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
    except ValueError:
        word = {bool: "true or false", int: "a whole number", float: "a finite number"}[kind]
        raise SweepSpecError(f"{flag} {name}: {text!r} is not {word}; give values like {name}=V1,V2.") from None
    return text


def parse_grid(text: str) -> Axis:
    """``NAME=V1,V2,...`` -> a grid axis."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise SweepSpecError(f"--grid {text!r} must look like NAME=V1,V2 (e.g. lr=0.001,0.01).")
    name = _field_name(name.strip(), "--grid")
    parts = [v for v in values.split(",") if v.strip()]
    converted = tuple(dict.fromkeys(_convert(name, v, "--grid") for v in parts))  # repeats dropped, order kept
    return Axis(name=name, values=converted)


def parse_random(text: str) -> Axis:
    """``NAME=LO:HI`` or ``NAME=LO:HI:log`` -> a random axis (uniform, or uniform in log space)."""
    name, sep, rest = text.partition("=")
    parts = rest.split(":")
    if not sep or not name.strip() or len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].strip() != "log"):
        raise SweepSpecError(f"--random {text!r} must look like NAME=LO:HI or NAME=LO:HI:log (e.g. lr=1e-4:1e-1:log).")
    name = _field_name(name.strip(), "--random")
    if name.startswith(OPTION_PREFIX) or _field_type(name) not in (int, float):
        raise SweepSpecError(f"--random {name} is not a number setting; vary it with --grid {name}=V1,V2 instead.")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise SweepSpecError(f"--random {name}: {parts[0]!r} and {parts[1]!r} must be numbers (NAME=LO:HI).") from None
    log = len(parts) == 3
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise SweepSpecError(f"--random {name}: the low end must be below the high end (got {low:g}:{high:g}).")
    if log and low <= 0:
        raise SweepSpecError(f"--random {name}: a log range needs a low end above 0 (got {low:g}).")
    return Axis(name=name, low=low, high=high, log=log)


def apply_settings(base: TrainConfig, settings: dict[str, Any]) -> TrainConfig:
    """``base`` with ``settings`` (field names, or option.NAME for an architecture option) on top."""
    options = dict(base.arch_options)
    fields = {}
    for name, value in settings.items():
        if name.startswith(OPTION_PREFIX):
            options[name[len(OPTION_PREFIX):]] = value
        else:
            fields[name] = value
    return base.replace(**fields, arch_options=options)


def _draw(axis: Axis, rng: random.Random) -> Any:
    if axis.log:
        value = math.exp(rng.uniform(math.log(axis.low), math.log(axis.high)))
    else:
        value = rng.uniform(axis.low, axis.high)
    if _field_type(axis.name) is int:
        return int(round(value))
    return float(f"{value:.4g}")  # 4 significant digits: readable in tables and folder listings


def with_settings(base: TrainConfig, texts: list[str], flag: str = "--set") -> TrainConfig:
    """``base`` with each ``NAME=VALUE`` of ``texts`` set (a one-off change: an ablation, a benchmark variant)."""
    settings: dict[str, Any] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SweepSpecError(f"{flag} {text!r} must look like NAME=VALUE (e.g. flip=random or option.dirac=false).")
        name = _field_name(name.strip(), flag)
        settings[name] = _check_value(base, name, _convert(name, value, flag), flag)
    return apply_settings(base, settings)


def trial_settings(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every trial's varied settings, in order; the same spec always gives the same list (seeded)."""
    grid_points = [dict(zip([a.name for a in spec.grid], combo))
                   for combo in itertools.product(*[a.values for a in spec.grid])]
    if not spec.random:
        return grid_points
    rng = random.Random(spec.seed)
    return [{**point, **{a.name: _draw(a, rng) for a in spec.random}}
            for point in grid_points for _ in range(spec.trials)]


def _check_value(base: TrainConfig, name: str, value: Any, flag: str) -> Any:
    """``value`` as the trial will use it (architecture options converted by the architecture)."""
    try:
        config = apply_settings(base.replace(arch_options=dict(base.arch_options)), {name: value})
    except (ValueError, TypeError) as exc:
        raise SweepSpecError(f"{flag} {name}={value}: {exc}") from None
    if name.startswith(OPTION_PREFIX):
        from workbench.core.architectures import resolve_options

        try:
            return resolve_options(config.arch, **config.arch_options)[name[len(OPTION_PREFIX):]]
        except (ValueError, TypeError) as exc:
            raise SweepSpecError(f"{flag} {name}={value}: {exc}") from None
    return value


def make_spec(base: TrainConfig, grid: list[str], random_: list[str], trials: int | None = None,
              seed: int = 0, minutes: float | None = None) -> tuple[SweepSpec, list[TrainConfig]]:
    """Parse and check a sweep; returns the spec and every trial's config (before any folder is made)."""
    grid_axes = [parse_grid(g) for g in grid]
    random_axes = [parse_random(r) for r in random_]
    names = [a.name for a in grid_axes + random_axes]
    if not names:
        raise SweepSpecError("A sweep needs at least one --grid NAME=V1,V2 or --random NAME=LO:HI setting to vary.")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SweepSpecError(f"{repeated[0]} is varied twice; give it once, in --grid or in --random.")
    if random_axes and (trials is None or trials < 1):
        raise SweepSpecError("A random sweep needs --trials N (at least 1): how many settings to draw.")
    if not random_axes and trials is not None:
        raise SweepSpecError("--trials is for --random sweeps; a grid sweep runs every combination once.")
    if minutes is not None and not (math.isfinite(minutes) and minutes > 0):
        raise SweepSpecError(f"--sweep-minutes must be a number of minutes above 0 (got {minutes:g}).")
    grid_axes = [dataclasses.replace(a, values=tuple(_check_value(base, a.name, v, "--grid") for v in a.values))
                 for a in grid_axes]
    for axis in random_axes:
        for end in (axis.low, axis.high):
            _check_value(base, axis.name, int(end) if _field_type(axis.name) is int else end, "--random")
    spec = SweepSpec(base=base, grid=tuple(grid_axes), random=tuple(random_axes), trials=trials or 1, seed=seed,
                     minutes=minutes)
    count = math.prod(len(a.values) for a in grid_axes) * (spec.trials if random_axes else 1)
    if count > MAX_TRIALS:
        raise SweepSpecError(f"This sweep would run {count} trials; the most is {MAX_TRIALS}: vary fewer values.")
    configs = [apply_settings(base, s) for s in trial_settings(spec)]
    return spec, configs
