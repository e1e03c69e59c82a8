"""Whether a model's confidence means what it says: expected calibration error, reliability bins, and
temperature scaling. Plain numpy; the model file stores a fitted temperature in its metadata.

Bins (ECE and the reliability diagram alike): ``BINS`` = 15 equal-width bins of the top probability;
bin i holds confidences in (i/15, (i+1)/15], and a confidence of exactly 0 falls in the first. Edges are
``np.arange(16) / 15`` and confidences are compared with them in float64, so a confidence exactly on an
edge belongs to the bin below it, and 1.0 to the last bin.

Temperature scaling (Guo et al. 2017): calibrated probabilities are ``softmax(log p / T)``. For a logits
model log p differs from the logits by a per-row constant, so this equals ``softmax(z / T)`` for any
model; probabilities below ``PROB_FLOOR`` are taken as the floor so that log p stays finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

BINS = 15
EDGES = np.arange(BINS + 1, dtype=np.float64) / BINS
PROB_FLOOR = float(np.finfo(np.float32).tiny)  # the smallest normal float32: a softmax's 0 becomes log ≈ -87
# The temperature search range; also what a stored temperature may be (outside it a file is not believed).
T_MIN, T_MAX = 0.01, 100.0
_SEARCH_STEPS = 80  # golden-section steps on log T: the bracket shrinks to ~1e-16 of its width


class CalibrationError(ValueError):
    """Probabilities or labels that cannot be used; str() is one readable sentence."""


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of the reliability diagram: confidences in (lower, upper]; NaN means for an empty bin."""

    lower: float
    upper: float
    count: int
    confidence: float  # mean top probability of the bin's images
    accuracy: float  # share of them whose top class is the true class


@dataclass(frozen=True)
class Reliability:
    """Expected calibration error and its bins, from top-1 confidences and correctness."""

    ece: float  # sum over bins of count/n × |accuracy − confidence|; 0 is perfectly calibrated
    bins: tuple[ReliabilityBin, ...]
    n: int

    @property
    def max_gap(self) -> float:
        """The largest |accuracy − confidence| of a non-empty bin (maximum calibration error)."""
        gaps = [abs(b.accuracy - b.confidence) for b in self.bins if b.count]
        return max(gaps) if gaps else 0.0

    def as_json(self) -> list[dict]:
        """The bins as plain JSON rows (null for an empty bin's means)."""
        def num(v: float) -> float | None:
            return None if math.isnan(v) else round(float(v), 6)

        return [{"lower": round(b.lower, 6), "upper": round(b.upper, 6), "count": b.count,
                 "confidence": num(b.confidence), "accuracy": num(b.accuracy)} for b in self.bins]


@dataclass(frozen=True)
class TemperatureFit:
    """A fitted temperature and how it did: NLL and ECE on the images it was fitted on."""

    temperature: float
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float
    n: int
    at_bound: bool = False  # the best T lay at the end of the search range (T_MIN or T_MAX)


def _check(probs: np.ndarray, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    p = np.asarray(probs)
    if p.ndim != 2 or p.shape[1] < 2:
        raise CalibrationError(f"Calibration needs an N×C array of class probabilities (C ≥ 2); got shape {p.shape}.")
    if len(p) == 0:
        raise CalibrationError("There are no predictions to calibrate or measure.")
    if not np.issubdtype(p.dtype, np.number) or not np.isfinite(p).all():
        raise CalibrationError("Some predicted probabilities are not finite numbers (NaN or infinity), "
                               "so calibration cannot be measured; the model's outputs are broken.")
    if labels is None:
        return p, None
    y = np.asarray(labels).reshape(-1)
    if len(y) != len(p):
        raise CalibrationError(f"There are {len(p)} predictions but {len(y)} labels.")
    if not np.issubdtype(y.dtype, np.integer) or (y.min() < 0 or y.max() >= p.shape[1]):
        raise CalibrationError(f"The labels must be whole numbers from 0 to {p.shape[1] - 1}.")
    return p, y.astype(np.int64)


def bin_index(confidence: np.ndarray) -> np.ndarray:
    """The bin of each confidence: i for (i/15, (i+1)/15], 0 for exactly 0 (values are clipped to [0, 1])."""
    c = np.clip(np.asarray(confidence, dtype=np.float64), 0.0, 1.0)
    return np.clip(np.searchsorted(EDGES, c, side="left") - 1, 0, BINS - 1)


def reliability(probs: np.ndarray, labels: Sequence[int]) -> Reliability:
    """ECE and the 15 reliability bins of N×C probabilities against integer labels."""
    p, y = _check(probs, labels)
    pred = p.argmax(axis=1)
    conf = p[np.arange(len(p)), pred].astype(np.float64)
    correct = (pred == y).astype(np.float64)
    idx = bin_index(conf)
    counts = np.bincount(idx, minlength=BINS)
    conf_sum = np.bincount(idx, weights=conf, minlength=BINS)
    hit_sum = np.bincount(idx, weights=correct, minlength=BINS)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(counts > 0, conf_sum / np.maximum(counts, 1), np.nan)
        accuracy = np.where(counts > 0, hit_sum / np.maximum(counts, 1), np.nan)
    ece = float(np.abs(hit_sum - conf_sum).sum() / len(p))  # = Σ count/n · |acc − conf|
    bins = tuple(ReliabilityBin(float(EDGES[i]), float(EDGES[i + 1]), int(counts[i]), float(mean_conf[i]),
                                float(accuracy[i])) for i in range(BINS))
    return Reliability(ece=ece, bins=bins, n=len(p))


def expected_calibration_error(probs: np.ndarray, labels: Sequence[int]) -> float:
    """ECE with 15 equal-width bins of the top probability (see the module's bin rule)."""
    return reliability(probs, labels).ece


def _log_probs(p: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(p.astype(np.float64), PROB_FLOOR))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def check_temperature(temperature: float) -> float:
    """The temperature as a float, or a CalibrationError sentence when it is not finite and in range."""
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise CalibrationError(f"A temperature must be a number, not {temperature!r}.") from None
    if not (math.isfinite(t) and T_MIN <= t <= T_MAX):
        raise CalibrationError(f"A temperature must be a finite number from {T_MIN:g} to {T_MAX:g}; got {t!r}.")
    return t


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log p / T)`` row by row, as float32 (T = 1 gives the rows back, renormalised)."""
    t = check_temperature(temperature)
    p, _ = _check(probs)
    return _softmax(_log_probs(p) / t).astype(np.float32)


def _nll(log_p: np.ndarray, y: np.ndarray, t: float) -> float:
    z = log_p / t
    z = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def fit_temperature(probs: np.ndarray, labels: Sequence[int]) -> TemperatureFit:
    """The T in [T_MIN, T_MAX] minimising the mean negative log-likelihood of ``softmax(log p / T)``.

    The NLL is convex in 1/T, so it has one minimum along log T; a golden-section search finds it.
    """
    p, y = _check(probs, labels)
    log_p = _log_probs(p)
    lo, hi = math.log(T_MIN), math.log(T_MAX)
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = _nll(log_p, y, math.exp(a)), _nll(log_p, y, math.exp(b))
    for _ in range(_SEARCH_STEPS):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = _nll(log_p, y, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = _nll(log_p, y, math.exp(b))
    t = math.exp((lo + hi) / 2)
    # The best interior point may still lose to T = 1 by rounding; never return a worse fit than none.
    nll_1, nll_t = _nll(log_p, y, 1.0), _nll(log_p, y, t)
    if nll_1 <= nll_t:
        t, nll_t = 1.0, nll_1
    at_bound = t <= T_MIN * 1.001 or t >= T_MAX / 1.001
    ece_before = reliability(p, y).ece
    ece_after = reliability(_softmax(log_p / t), y).ece
    return TemperatureFit(temperature=t, nll_before=nll_1, nll_after=nll_t, ece_before=ece_before,
                          ece_after=ece_after, n=len(p), at_bound=at_bound)


# ---- a temperature as stored in a model file's metadata ("temperature" key) -----------------------

_MAX_IMAGES = 10**9


@dataclass(frozen=True)
class StoredTemperature:
    """A fitted temperature with what it was fitted on and how it did on held-out images."""

    value: float
    dataset: str = ""  # the dataset id (or name) whose images it was fitted on
    split: str = ""  # in words: "validation split of the training run" or "first half of the test split"
    images: int = 0  # images it was fitted on
    held_out_images: int = 0  # images the ECE figures below were measured on (never the fitted ones)
    ece_before: float | None = None
    ece_after: float | None = None
    preprocessing: str = ""  # the preprocessing it was fitted with, in words (another one makes T meaningless)

    def as_json(self) -> dict:
        return {"value": self.value, "dataset": self.dataset, "split": self.split, "images": self.images,
                "held_out_images": self.held_out_images, "ece_before": self.ece_before, "ece_after": self.ece_after,
                "preprocessing": self.preprocessing}

    @classmethod
    def from_json(cls, raw: object) -> "StoredTemperature":
        """Checked fields from a file (CalibrationError with the reason when the value is unusable);
        descriptive fields of the wrong kind are left empty, texts are cut to 100 characters."""
        if not isinstance(raw, dict):
            raise CalibrationError("a temperature that is not a JSON object")
        value = raw.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CalibrationError("a temperature value that is not a number")
        if not (math.isfinite(value) and T_MIN <= value <= T_MAX):
            raise CalibrationError(f"a temperature of {value!r}, outside {T_MIN:g} to {T_MAX:g}")

        def text(key: str) -> str:
            v = raw.get(key)
            return "".join(ch for ch in v if ch.isprintable())[:100] if isinstance(v, str) else ""

        def count(key: str) -> int:
            v = raw.get(key)
            return int(v) if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= _MAX_IMAGES else 0

        def share(key: str) -> float | None:
            v = raw.get(key)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= 1
            return float(v) if ok else None

        return cls(float(value), text("dataset"), text("split"), count("images"), count("held_out_images"),
                   share("ece_before"), share("ece_after"), text("preprocessing"))

    def describe(self) -> str:
        """'temperature 1.52 (fitted on 5,000 images of cifar10, validation split; ECE 0.081 → 0.012 on 2,000 held-out images)'."""
        where = ", ".join(p for p in (f"{self.images:,} images" if self.images else "",
                                      f"of {self.dataset}" if self.dataset else "", self.split) if p)
        where = where.replace("images, of", "images of")
        text = f"temperature {self.value:.3g}" + (f" (fitted on {where}" if where else " (fitted on images not recorded")
        if self.ece_before is not None and self.ece_after is not None:
            held = f" on {self.held_out_images:,} held-out images" if self.held_out_images else ""
            text += f"; ECE {self.ece_before:.3f} → {self.ece_after:.3f}{held}"
        return text + ")"
