"""ASHA's rule on its own: which trials stop at which rung."""

import math

import pytest

from workbench.core.sweeps.asha import AshaRungs, keeps_going, rung_epochs


def test_rungs_grow_by_eta_and_stop_before_the_last_epoch():
    assert rung_epochs(1, 3, 30) == (1, 3, 9, 27)
    assert rung_epochs(2, 2, 8) == (2, 4)
    assert rung_epochs(1, 3, 1) == ()  # a one-epoch trial has nothing to judge


@pytest.mark.parametrize("min_epochs, eta", [(0, 3), (1, 1)])
def test_bad_settings_are_refused_in_words(min_epochs, eta):
    with pytest.raises(ValueError, match="--asha-eta"):
        rung_epochs(min_epochs, eta, 10)


def test_top_third_goes_on():
    recorded = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    assert [keeps_going(recorded, v, 3) for v in recorded] == [False, False, False, False, True, True]
    assert not keeps_going([0.5, math.nan], math.nan, 3)  # a diverged trial never goes on


def test_trials_reaching_a_rung_in_turn():
    # eta 3, rungs at epochs 1 and 3 of 9. The first trial at a rung always goes on (asynchronous: no waiting).
    rungs = AshaRungs(min_epochs=1, eta=3, max_epochs=9)
    assert rungs.report("a", 1, 0.30)  # alone at rung 1
    assert rungs.report("b", 1, 0.50)  # 2 recorded: keep max(1, 0) = 1, and b is the best
    assert not rungs.report("c", 1, 0.40)  # 3 recorded: keep 1; b is better -> c stops at rung 1
    assert not rungs.report("d", 1, 0.20)
    assert rungs.report("e", 1, 0.90)  # new best
    assert not rungs.report("f", 1, 0.45)  # 6 recorded: keep 2 (0.9, 0.5); 0.45 is third
    assert rungs.report("b", 2, 0.1)  # epoch 2 is not a rung: nothing is judged
    assert rungs.report("b", 3, 0.60)  # first at rung 3
    assert not rungs.report("e", 3, 0.55)  # 2 at rung 3: only b goes on
    assert rungs.report("b", 9, 0.0)  # the last epoch is no rung


def test_state_lives_in_the_mapping_given():
    shared = {}
    AshaRungs(1, 2, 4, shared).report("a", 1, 0.8)
    assert not AshaRungs(1, 2, 4, shared).report("b", 1, 0.7)  # a second reader sees the first's record
    assert shared == {"1:a": 0.8, "1:b": 0.7}
