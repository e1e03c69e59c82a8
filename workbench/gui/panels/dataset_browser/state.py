"""What the dataset browser shows of a loaded dataset — split, class filter, shuffle order, page — as a
plain object without Qt: the panel's controls write to it and the grid is drawn from it."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

PAGE_SIZE = 25  # a 5 x 5 grid
SPLITS = ("train", "test")


class BrowseState:
    """The browsing state of one dataset's labels. Every change keeps ``visible`` (the indices of the
    chosen split that pass the filter, in the shown order) and ``page`` (clamped to the pages) current."""

    def __init__(self, page_size: int = PAGE_SIZE, rng: np.random.Generator | None = None) -> None:
        self.page_size = page_size
        self.split = "train"
        self.class_filter: int | None = None
        self.shuffled = False
        self.page = 0
        self.visible = np.zeros(0, np.int64)
        self._labels: dict[str, np.ndarray] | None = None  # None: nothing loaded
        self._order: np.ndarray | None = None  # the shuffled order of the split's indices, or None
        self._rng = rng

    # --- what is browsed ----------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._labels is not None

    def load(self, train_labels: Sequence[int], test_labels: Sequence[int], *, shuffled: bool = False) -> None:
        """A newly loaded dataset, shown from its first page; the split and class filter stay."""
        self._labels = {"train": np.asarray(train_labels).ravel(), "test": np.asarray(test_labels).ravel()}
        self.shuffled = shuffled
        self._order = self._permutation() if shuffled else None
        self.page = 0
        self._refilter()

    def clear(self) -> None:
        """Nothing loaded (the load failed); the split, filter and shuffle choice stay for the next one."""
        self._labels = None
        self._order = None
        self.page = 0
        self._refilter()

    def labels(self) -> np.ndarray:
        """The class index of every image of the chosen split."""
        return self._labels[self.split] if self._labels is not None else np.zeros(0, np.int64)

    # --- what the controls change -------------------------------------------------------------
    def set_split(self, split: str) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
        self.split = split
        self._order = self._permutation() if self.shuffled else None  # a new split is shuffled anew
        self.page = 0
        self._refilter()

    def set_class_filter(self, class_index: int | None) -> None:
        self.class_filter = None if class_index is None else int(class_index)
        self.page = 0
        self._refilter()

    def set_shuffled(self, on: bool) -> None:
        self.shuffled = bool(on)
        self._order = self._permutation() if on else None
        self.page = 0
        self._refilter()

    def reshuffle(self) -> None:
        """Shuffle (again): a new order, from the first page."""
        self.set_shuffled(True)

    def next_page(self) -> bool:
        """One page on; False (and nothing changes) on the last page or with nothing loaded."""
        if not self.loaded or self.page + 1 >= self.page_count():
            return False
        self.page += 1
        return True

    def previous_page(self) -> bool:
        if not self.loaded or self.page <= 0:
            return False
        self.page -= 1
        return True

    # --- what is drawn ------------------------------------------------------------------------
    def page_count(self) -> int:
        return max(1, math.ceil(len(self.visible) / self.page_size))

    def page_indices(self) -> np.ndarray:
        """The indices (into the chosen split) of the images on the current page, in the shown order."""
        start = self.page * self.page_size
        return self.visible[start:start + self.page_size]

    def can_go_back(self) -> bool:
        return self.loaded and self.page > 0

    def can_go_forward(self) -> bool:
        return self.loaded and self.page + 1 < self.page_count()

    def page_text(self) -> str:
        return f"page {self.page + 1} of {self.page_count()}" if self.loaded else ""

    # --- internals ----------------------------------------------------------------------------
    def _permutation(self) -> np.ndarray | None:
        if self._labels is None:
            return None
        rng = self._rng if self._rng is not None else np.random.default_rng()
        return rng.permutation(len(self.labels()))

    def _refilter(self) -> None:
        y = self.labels()
        order = self._order if self._order is not None and len(self._order) == len(y) else np.arange(len(y))
        if self.class_filter is not None:
            order = order[y[order] == self.class_filter]
        self.visible = order
        self.page = min(self.page, max(0, self.page_count() - 1))
