"""The dataset browser's BrowseState without Qt: paging, class filter, split and shuffle on plain labels."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui_models.conftest import qt_modules_after_import
from workbench.gui.panels.dataset_browser.state import BrowseState

TRAIN = np.array([i % 3 for i in range(60)])  # classes 0, 1, 2 in turn: 20 each
TEST = np.array([2] * 7 + [0] * 4)


def _state(**kw) -> BrowseState:
    state = BrowseState(rng=np.random.default_rng(0))
    state.load(TRAIN, TEST, **kw)
    return state


def test_the_state_module_needs_no_qt():
    assert qt_modules_after_import("workbench.gui.panels.dataset_browser.state") == []
    assert qt_modules_after_import("workbench.gui.panels.dataset_browser.loading") == []


def test_pages_of_25_in_order_until_the_last():
    state = _state()
    assert state.page_count() == 3 and state.page_text() == "page 1 of 3"
    assert state.page_indices().tolist() == list(range(25))
    assert not state.can_go_back() and state.can_go_forward()
    assert state.next_page() and state.next_page()
    assert state.page_indices().tolist() == list(range(50, 60))
    assert not state.next_page() and state.page == 2 and not state.can_go_forward()
    assert state.previous_page() and state.page == 1


def test_nothing_loaded_has_one_empty_page_and_no_paging():
    state = BrowseState()
    assert not state.loaded and state.page_count() == 1 and state.page_text() == ""
    assert state.page_indices().tolist() == [] and not state.next_page() and not state.previous_page()
    state.set_shuffled(True)  # remembered for the next load, which then comes shuffled
    assert state.shuffled and state.page_indices().tolist() == []


def test_the_class_filter_keeps_the_order_and_starts_at_page_one():
    state = _state()
    state.next_page()
    state.set_class_filter(1)
    assert state.page == 0 and state.page_count() == 1
    assert state.page_indices().tolist() == list(range(1, 60, 3))
    state.set_class_filter(None)
    assert state.page_count() == 3


def test_the_test_split_has_its_own_labels():
    state = _state()
    state.set_class_filter(2)
    state.set_split("test")
    assert state.page_indices().tolist() == list(range(7))  # the filter stays across the split
    with pytest.raises(ValueError, match="split must be one of train, test"):
        state.set_split("validation")


def test_shuffle_is_a_permutation_of_the_split_and_filter_follows_it():
    state = _state()
    state.set_shuffled(True)
    shown = state.visible.tolist()
    assert sorted(shown) == list(range(60)) and shown != list(range(60))
    state.set_class_filter(0)
    assert state.visible.tolist() == [i for i in shown if i % 3 == 0]  # the shuffled order, filtered
    state.set_split("test")  # a new split is shuffled anew, with its own length
    assert sorted(state.visible.tolist()) == [7, 8, 9, 10]
    state.set_shuffled(False)
    assert state.visible.tolist() == [7, 8, 9, 10]


def test_reshuffle_gives_a_new_order_from_page_one():
    state = _state(shuffled=True)
    first = state.visible.tolist()
    state.next_page()
    state.reshuffle()
    assert state.page == 0 and state.shuffled and sorted(state.visible.tolist()) == list(range(60))
    assert state.visible.tolist() != first


def test_a_new_load_starts_at_page_one_and_clamps_nothing_stale():
    state = _state()
    state.next_page()
    state.next_page()
    state.load(TRAIN[:30], TEST)
    assert state.page == 0 and state.page_count() == 2 and not state.shuffled
    state.clear()
    assert not state.loaded and state.page == 0 and state.visible.tolist() == []
