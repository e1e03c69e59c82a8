"""The 2-D maps: PCA against a direct SVD, t-SNE's progress and cancel (openTSNE), and the sentences."""

import threading
import time

import numpy as np
import pytest

from workbench.core.embedding.projection import (
    EXAGGERATION_ITERS,
    OPTIMISE_ITERS,
    PHASE_NEIGHBOURS,
    PHASE_OPTIMISING,
    ProjectionCancelled,
    ProjectionError,
    pca_2d,
    principal_components,
    project,
    tsne_2d,
)


def _clusters(n=300, d=20, k=3, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    centres = rng.normal(0, 6, (k, d))
    return (centres[labels] + rng.normal(0, 1, (n, d))).astype(np.float32), labels


@pytest.mark.parametrize("shape", [(200, 16), (12, 40)])  # more rows than columns, and fewer
def test_pca_matches_a_direct_svd(shape):
    x = np.random.default_rng(1).normal(size=shape).astype(np.float32) * np.linspace(3, 0.1, shape[1])
    p = pca_2d(x)
    centred = x.astype(np.float64) - x.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    direct = u[:, :2] * s[:2]
    assert p.coords.shape == (shape[0], 2) and p.coords.dtype == np.float32
    for axis in range(2):  # the same axes up to sign
        sign = np.sign(np.dot(direct[:, axis], p.coords[:, axis]))
        np.testing.assert_allclose(p.coords[:, axis], sign * direct[:, axis], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(p.explained, (s[:2] ** 2) / (s ** 2).sum(), rtol=1e-5)
    assert "PCA" in p.describe()


def test_pca_is_the_same_map_every_time_and_for_a_flipped_copy():
    x, _ = _clusters()
    a, b = pca_2d(x).coords, pca_2d(x.copy()).coords
    np.testing.assert_array_equal(a, b)
    # Signs are fixed by the loadings, so negating one feature does not mirror the whole map at random.
    scores, _ = principal_components(x, 3)
    assert scores.shape == (300, 3)


def test_bad_features_are_a_sentence():
    with pytest.raises(ProjectionError, match="at least 3"):
        pca_2d(np.zeros((2, 4)))
    with pytest.raises(ProjectionError, match="not finite"):
        pca_2d(np.array([[0.0, 1.0], [np.nan, 1.0], [2.0, 2.0]]))
    with pytest.raises(ProjectionError, match="table"):
        pca_2d(np.zeros(10))
    with pytest.raises(ProjectionError, match="pca, tsne"):
        project(np.zeros((5, 2)), "umap")


def test_tsne_keeps_clusters_apart_and_reports_progress():
    x, labels = _clusters()
    seen = []
    p = tsne_2d(x, progress=lambda *value: seen.append(value))
    assert p.coords.shape == (300, 2) and np.isfinite(p.coords).all() and p.method == "tsne"
    total = EXAGGERATION_ITERS + OPTIMISE_ITERS
    assert seen[0] == (PHASE_NEIGHBOURS, 0, total)
    done = [d for phase, d, _ in seen if phase == PHASE_OPTIMISING]
    assert done == sorted(done) and done[-1] == total and len(done) >= 50
    # Each point's nearest neighbour on the map is of its own cluster (well-separated clusters).
    d2 = ((p.coords[:, None] - p.coords[None]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    assert (labels[d2.argmin(axis=1)] == labels).mean() > 0.95


def test_tsne_cancel_stops_soon_and_returns_nothing():
    x, _ = _clusters(n=2000, d=30)
    stop = threading.Event()
    asked = []

    def progress(phase, done, total):
        if phase == PHASE_OPTIMISING and done >= 100 and not stop.is_set():
            asked.append(time.perf_counter())
            stop.set()

    with pytest.raises(ProjectionCancelled, match="cancelled"):
        tsne_2d(x, progress=progress, cancel=stop)
    assert asked and time.perf_counter() - asked[0] < 3.0  # within a few iterations of the request


def test_tsne_cancelled_before_it_starts():
    x, _ = _clusters(n=50)
    with pytest.raises(ProjectionCancelled):
        tsne_2d(x, cancel=lambda: True)


def test_tsne_small_sets_lower_the_perplexity():
    x, _ = _clusters(n=12, d=5)
    assert tsne_2d(x).coords.shape == (12, 2)
