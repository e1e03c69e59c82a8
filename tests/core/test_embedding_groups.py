"""Picking a group of map points with a drawn shape, and what the group holds."""

import numpy as np

from workbench.core.embedding.groups import points_in_polygon, summarize_group
from workbench.core.embedding.map_file import map_csv


def test_points_in_a_square_and_in_a_concave_shape():
    pts = np.array([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [-0.1, 0.2], [0.9, 0.9]])
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]])
    assert points_in_polygon(pts, square).tolist() == [0, 4]
    # an L shape: the notch's corner (1.5, 1.5) is outside, its arms inside
    ell = np.array([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]])
    grid = np.array([[1.5, 0.5], [0.5, 1.5], [1.5, 1.5], [0.5, 0.5]])
    assert points_in_polygon(grid, ell).tolist() == [0, 1, 3]
    assert points_in_polygon(pts, square[:2]).size == 0  # not a shape


def test_a_long_lasso_is_thinned_and_gives_the_same_answer():
    t = np.linspace(0, 2 * np.pi, 5000, endpoint=False)
    circle = np.c_[np.cos(t), np.sin(t)]
    pts = np.random.default_rng(0).uniform(-1.2, 1.2, (2000, 2))
    inside = points_in_polygon(pts, circle)
    r = np.hypot(pts[:, 0], pts[:, 1])
    expected = np.flatnonzero(r < 1)
    assert len(np.setxor1d(inside, expected)) <= 3  # only points within a hair of the edge may differ


def test_group_counts_by_true_class_with_mistakes():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 0])
    s = summarize_group([0, 1, 3, 4, 5], y_true, y_pred, ["cat", "dog", "ship"])
    assert s.size == 5 and s.counts == (("ship", 3, 2), ("cat", 2, 1))
    assert s.describe() == "5 images (3 mistakes): ship 3, cat 2"
    assert summarize_group([], y_true, y_pred, ["cat", "dog", "ship"]).describe() == "No images in the group."


def test_map_csv_rows():
    text = map_csv(np.array([[0.5, -1.0], [2.0, 3.25]]), np.array([1, 0]),
                   np.array([[0.2, 0.8], [0.3, 0.7]]), ["a,b", "c"])
    assert text.splitlines() == ["index,x,y,true,predicted,correct,confidence",
                                 '0,0.5,-1,c,c,yes,0.8000', '1,2,3.25,"a,b",c,no,0.7000']
