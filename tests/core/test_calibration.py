"""ECE and reliability bins against a hand-written loop over bins; temperature scaling on logits with a
known over-confidence (fitted T near the true T, held-out ECE lowered); bad inputs are one sentence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.core.calibration import (
    BINS,
    CalibrationError,
    apply_temperature,
    bin_index,
    expected_calibration_error,
    fit_temperature,
    reliability,
)


def _by_hand(probs, labels):
    """ECE written straight from the definition: bin i holds (i/15, (i+1)/15], 0 goes to bin 0."""
    n = len(probs)
    total = 0.0
    rows = []
    for i in range(BINS):
        lo, hi = i / 15, (i + 1) / 15
        members = []
        for p, y in zip(probs, labels):
            c = float(max(p))
            if (lo < c <= hi) or (i == 0 and c == 0.0):
                members.append((c, int(np.argmax(p)) == y))
        if members:
            conf = sum(c for c, _ in members) / len(members)
            acc = sum(ok for _, ok in members) / len(members)
            total += len(members) / n * abs(acc - conf)
            rows.append((len(members), conf, acc))
        else:
            rows.append((0, None, None))
    return total, rows


def _two_class(conf, correct):
    """Rows [c, 1-c] with labels making the prediction right or wrong (c >= 0.5 so class 0 is on top)."""
    probs = np.array([[c, 1 - c] for c in conf], np.float64)
    labels = np.array([0 if ok else 1 for ok in correct])
    return probs, labels


def test_ece_matches_a_direct_computation_on_random_predictions():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(500, 10)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 10, 500)
    labels[:250] = probs[:250].argmax(1)  # half right, so bins hold both kinds
    want, rows = _by_hand(probs, labels)
    got = reliability(probs, labels)
    assert got.ece == pytest.approx(want, abs=1e-12)
    assert want > 0.05
    for b, (count, conf, acc) in zip(got.bins, rows):
        assert b.count == count
        if count:
            assert b.confidence == pytest.approx(conf) and b.accuracy == pytest.approx(acc)
        else:
            assert math.isnan(b.confidence) and math.isnan(b.accuracy)
    assert sum(b.count for b in got.bins) == 500


def test_a_confidence_on_a_bin_edge_belongs_to_the_bin_below():
    edges = [i / 15 for i in range(8, 16)]  # 8/15 .. 15/15 = 1.0, all >= 0.5
    probs, labels = _two_class(edges, [True] * len(edges))
    idx = bin_index(probs.max(1))
    assert list(idx) == [i - 1 for i in range(8, 16)]  # i/15 is the top of bin i-1; 1.0 in the last bin
    got = reliability(probs, labels)
    want, _ = _by_hand(probs, labels)
    assert got.ece == pytest.approx(want, abs=1e-12)
    assert got.bins[BINS - 1].count == 1 and got.bins[BINS - 1].confidence == 1.0


def test_zero_confidence_falls_in_the_first_bin():
    assert bin_index(np.array([0.0, 1e-9, 1 / 15, 1 / 15 + 1e-12]))[:4].tolist() == [0, 0, 0, 1]


def test_all_in_one_bin_gives_the_gap_of_that_bin():
    probs, labels = _two_class([0.95] * 10, [True] * 7 + [False] * 3)
    got = reliability(probs, labels)
    assert [b.count for b in got.bins].count(10) == 1
    assert got.ece == pytest.approx(abs(0.7 - 0.95))
    assert got.max_gap == pytest.approx(0.25)
    assert expected_calibration_error(probs, labels) == got.ece


def test_perfect_confidence_on_right_answers_is_calibrated():
    probs, labels = _two_class([1.0] * 5, [True] * 5)
    assert reliability(probs, labels).ece == 0.0


def _overconfident(n, true_t, seed):
    """Labels drawn from softmax(z); the model reports softmax(z * true_t): over-confident by true_t."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 10)) * 2.0
    p_true = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    labels = np.array([rng.choice(10, p=row) for row in p_true])
    sharp = z * true_t
    reported = np.exp(sharp - sharp.max(1, keepdims=True))
    return reported / reported.sum(1, keepdims=True), labels


def test_temperature_scaling_recovers_the_true_temperature_and_lowers_held_out_ece():
    fit_p, fit_y = _overconfident(4000, 2.5, seed=1)
    held_p, held_y = _overconfident(4000, 2.5, seed=2)
    fit = fit_temperature(fit_p, fit_y)
    assert fit.temperature == pytest.approx(2.5, rel=0.08)
    assert fit.nll_after < fit.nll_before and not fit.at_bound
    before = expected_calibration_error(held_p, held_y)
    after = expected_calibration_error(apply_temperature(held_p, fit.temperature), held_y)
    assert before > 0.1 and after < before / 3


def test_an_under_confident_model_gets_a_temperature_below_one():
    p, y = _overconfident(3000, 0.5, seed=4)
    fit = fit_temperature(p, y)
    assert fit.temperature == pytest.approx(0.5, rel=0.1)
    assert fit.ece_after < fit.ece_before


def test_apply_temperature_keeps_the_ranking_and_one_is_identity():
    p, _ = _overconfident(50, 2.0, seed=5)
    p[0, 3] = 0.0  # a softmax that underflowed: the floor keeps log p finite
    p /= p.sum(1, keepdims=True)
    same = apply_temperature(p, 1.0)
    assert np.allclose(same, p, atol=1e-6)
    soft = apply_temperature(p, 3.0)
    assert np.isfinite(soft).all() and np.allclose(soft.sum(1), 1, atol=1e-5)
    assert (soft.argmax(1) == p.argmax(1)).all()
    assert (soft.max(1) < p.max(1) + 1e-7).all()


@pytest.mark.parametrize("probs, labels, words", [
    (np.zeros((0, 3)), np.zeros(0, int), "no predictions"),
    (np.array([[np.nan, 0.5]]), np.array([0]), "not finite"),
    (np.array([[np.inf, 0.5]]), np.array([0]), "not finite"),
    (np.array([0.5, 0.5]), np.array([0]), "N×C"),
    (np.array([[0.5, 0.5]]), np.array([2]), "labels must be whole numbers"),
    (np.array([[0.5, 0.5]]), np.array([0, 1]), "1 predictions but 2 labels"),
])
def test_bad_inputs_are_one_sentence(probs, labels, words):
    for call in (lambda: reliability(probs, labels), lambda: fit_temperature(probs, labels)):
        with pytest.raises(CalibrationError, match=words):
            call()


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan"), float("inf"), 1e6, "x"])
def test_bad_temperatures_are_refused(t):
    with pytest.raises(CalibrationError, match="temperature must be"):
        apply_temperature(np.array([[0.7, 0.3]]), t)
