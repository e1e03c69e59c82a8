"""The loaded dataset: arrays plus the registry entry that describes them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .registry import DatasetInfo


@dataclass(frozen=True, eq=False)
class Dataset:
    """uint8 images N x height x width x channels (``info.image_shape``; possibly read-only memmaps)
    and integer labels."""

    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names

    @property
    def num_classes(self) -> int:
        return self.info.num_classes

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(height, width, channels) of every image: what a network built for this data takes."""
        return self.info.image_shape

    def subset(self, train_indices=None, test_indices=None) -> "Dataset":
        """A Dataset holding only the given rows (None keeps a split whole); copies the chosen rows."""
        x_train, y_train, x_test, y_test = self.x_train, self.y_train, self.x_test, self.y_test
        if train_indices is not None:
            idx = np.asarray(train_indices)
            x_train, y_train = x_train[idx], y_train[idx]
        if test_indices is not None:
            idx = np.asarray(test_indices)
            x_test, y_test = x_test[idx], y_test[idx]
        return Dataset(self.info, x_train, y_train, x_test, y_test)

    def limit(self, max_train: int | None = None, max_test: int | None = None) -> "Dataset":
        """The first ``max_train`` / ``max_test`` rows as views (no copy); None keeps all."""
        return Dataset(
            self.info,
            self.x_train[:max_train], self.y_train[:max_train],
            self.x_test[:max_test], self.y_test[:max_test],
        )
