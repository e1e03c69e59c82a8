"""Features (N × D) to a 2-D map: PCA at once (numpy: eigenvectors of the smaller Gram matrix), t-SNE as
a long job with progress and cancel.

t-SNE is openTSNE's (Barnes-Hut, or FFT-accelerated for larger sets: Linderman et al. 2019): it maps
10,000 points in well under a minute here, and its callbacks let a caller follow and stop the optimisation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

# openTSNE's standard schedule: early exaggeration, then the plain optimisation.
EXAGGERATION_ITERS = 250
OPTIMISE_ITERS = 500
TSNE_PCA_DIMS = 50  # features are reduced to this many principal components first (the usual t-SNE practice)
CHECK_EVERY = 10  # iterations between progress reports and cancel checks (~0.1 s each at 10,000 points)
MAX_PERPLEXITY = 30.0
# One thread: on a busy 2-core machine openTSNE's second thread waits more than it works (300 points:
# 1.6 s with one, 26 s with two at load 7), and the window keeps a core for its event loop.
TSNE_THREADS = 1
# Barnes-Hut below this many points, FFT gradients from here: FFT has a fixed grid cost (1,000 points
# 2.2 s BH vs 10.8 s FFT) but grows slower (5,000: 17.6 vs 14.7 s; 10,000: 69 vs 31 s), one thread here.
FFT_FROM = 4000

# Progress phases: (phase, done, total); done/total count the optimisation's iterations.
PHASE_NEIGHBOURS = "neighbours"
PHASE_OPTIMISING = "optimising"


class ProjectionError(ValueError):
    """Features that cannot be projected; one readable sentence."""


class ProjectionCancelled(ProjectionError):
    """The caller stopped the projection; nothing of it is kept."""


@dataclass(frozen=True)
class Projection:
    """A 2-D map of N points: `coords` N × 2 float32, how it was made, and (PCA) the variance it keeps."""

    coords: np.ndarray
    method: str  # "pca" or "tsne"
    explained: tuple[float, float] | None = None  # PCA: share of the variance along each axis
    seconds: float = 0.0

    def describe(self) -> str:
        if self.method == "pca" and self.explained is not None:
            return (f"PCA: the two directions of largest variance "
                    f"({100 * self.explained[0]:.1f} % + {100 * self.explained[1]:.1f} % of it)")
        return "t-SNE: neighbours in feature space stay neighbours; distances between clusters mean little"


def _check(features: np.ndarray) -> np.ndarray:
    x = np.asarray(features)
    if x.ndim != 2:
        raise ProjectionError(f"Features must be a table of N rows; got shape {x.shape}.")
    if len(x) < 3:
        raise ProjectionError(f"A map needs at least 3 images; there are {len(x)}.")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise ProjectionError("Some features are not finite numbers (NaN or infinity), so they cannot be mapped.")
    return x


def principal_components(features: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The data on its first `k` principal axes (N × k float32) and each axis's share of the variance.

    Signs are fixed (each axis's largest loading positive), so the same data always gives the same map."""
    x = _check(features).astype(np.float64)
    x = x - x.mean(axis=0)
    n, d = x.shape
    k = max(1, min(k, n, d))
    # Eigenvectors of the smaller of X^T X (d × d) and X X^T (n × n): the same axes as an SVD of X, much faster.
    if d <= n:
        values, vectors = np.linalg.eigh(x.T @ x)
        order = np.argsort(values)[::-1]
        values, axes = np.clip(values[order], 0, None), vectors[:, order[:k]]
        scores = x @ axes
    else:
        values, vectors = np.linalg.eigh(x @ x.T)
        order = np.argsort(values)[::-1]
        values = np.clip(values[order], 0, None)
        scores = vectors[:, order[:k]] * np.sqrt(values[:k])
        axes = x.T @ vectors[:, order[:k]]
    flip = np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(k)])
    flip[flip == 0] = 1
    scores = scores * flip
    total = float(values.sum())
    share = values[:k] / total if total > 0 else np.zeros(k)
    if k < 2:  # a single direction (e.g. identical points but one): pad the map with a zero axis
        scores = np.hstack([scores, np.zeros((len(x), 2 - k))])
        share = np.append(share, 0.0)
    return scores.astype(np.float32), share


def pca_2d(features: np.ndarray) -> Projection:
    """The PCA map: the features on their two directions of largest variance (seconds for 10,000 × 512)."""
    import time

    start = time.perf_counter()
    coords, share = principal_components(features, 2)
    return Projection(coords[:, :2], "pca", (float(share[0]), float(share[1])), time.perf_counter() - start)


def tsne_2d(features: np.ndarray, *, progress: Callable[..., None] | None = None,
            cancel: Callable[[], bool] | threading.Event | None = None, seed: int = 0,
            n_jobs: int = TSNE_THREADS) -> Projection:
    """The t-SNE map (openTSNE: Barnes-Hut gradients below FFT_FROM points, FFT from there) of the features
    after PCA to 50 dimensions.

    `progress(phase, done, total)`: PHASE_NEIGHBOURS once, then PHASE_OPTIMISING every CHECK_EVERY
    iterations (done of EXAGGERATION_ITERS + OPTIMISE_ITERS). `cancel()` (or an Event) is read at the
    same pace, and between the steps before; when it is set, ProjectionCancelled is raised and nothing
    is returned. Perplexity 30, lowered for small sets (it must stay below N / 3)."""
    import time

    from openTSNE import TSNE
    from openTSNE.tsne import OptimizationInterrupt

    should_stop = cancel.is_set if isinstance(cancel, threading.Event) else cancel
    start = time.perf_counter()
    x = _check(features)

    def stop_if_asked() -> None:
        if should_stop is not None and should_stop():
            raise ProjectionCancelled("The t-SNE map was cancelled.")

    stop_if_asked()
    reduced, _ = principal_components(x, TSNE_PCA_DIMS)
    perplexity = min(MAX_PERPLEXITY, max(1.0, (len(x) - 1) / 3.0 - 1.0))
    total = EXAGGERATION_ITERS + OPTIMISE_ITERS
    if progress is not None:
        progress(PHASE_NEIGHBOURS, 0, total)
    stop_if_asked()
    offset = [0]

    def callback(iteration: int, _error: float, _embedding: np.ndarray) -> bool:
        if progress is not None:
            progress(PHASE_OPTIMISING, offset[0] + iteration, total)
        return bool(should_stop is not None and should_stop())

    gradients = "fft" if len(x) >= FFT_FROM else "bh"
    tsne = TSNE(perplexity=perplexity, n_jobs=n_jobs, random_state=seed, negative_gradient_method=gradients,
                callbacks=callback, callbacks_every_iters=CHECK_EVERY, verbose=False)
    embedding = tsne.prepare_initial(reduced)  # neighbours and affinities: seconds, not interruptible
    stop_if_asked()
    try:
        # The two phases of TSNE.fit, run here so progress counts across both.
        embedding.optimize(n_iter=EXAGGERATION_ITERS, exaggeration=tsne.early_exaggeration,
                           momentum=tsne.initial_momentum, inplace=True, propagate_exception=True)
        offset[0] = EXAGGERATION_ITERS
        embedding.optimize(n_iter=OPTIMISE_ITERS, exaggeration=tsne.exaggeration,
                           momentum=tsne.final_momentum, inplace=True, propagate_exception=True)
    except OptimizationInterrupt:
        raise ProjectionCancelled("The t-SNE map was cancelled.") from None
    coords = np.asarray(embedding, dtype=np.float32).copy()
    return Projection(coords, "tsne", None, time.perf_counter() - start)


METHODS = ("pca", "tsne")


def project(features: np.ndarray, method: str, **kwargs) -> Projection:
    """`pca_2d` or `tsne_2d` by name; a sentence for another name."""
    if method == "pca":
        return pca_2d(features)
    if method == "tsne":
        return tsne_2d(features, **kwargs)
    raise ProjectionError(f"The map method must be one of {', '.join(METHODS)}, not {method!r}.")
