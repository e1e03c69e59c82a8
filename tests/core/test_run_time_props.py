"""Property: however a run is cut into parts (each restarting history.csv's wall_seconds at 0), the whole
run's wall time is the sum of every part's own (no TensorFlow)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.training.run_time import resumed_from, run_wall_seconds


@settings(max_examples=50, deadline=None)
@given(durations=st.lists(st.floats(0.01, 1000.0), min_size=1, max_size=30),
       cuts=st.sets(st.integers(1, 29), max_size=5), startup=st.floats(0.0, 30.0))
def test_the_whole_run_is_the_sum_of_its_parts(durations, cuts, startup):
    starts = sorted(c for c in cuts if c < len(durations))
    rows, wall, expected = [], 0.0, 0.0
    for epoch, seconds in enumerate(durations):
        if epoch == 0 or epoch in starts:
            expected += wall
            wall = startup  # each part's clock starts before its first epoch
        wall += seconds
        rows.append({"epoch": epoch, "seconds": seconds, "wall_seconds": wall})
    expected += wall
    stored = {"resumed": [{"at": "", "from_epoch": s} for s in starts]}
    assert abs(run_wall_seconds(rows, resumed_from(stored)) - expected) <= 1e-6 * max(1.0, expected)


def test_damaged_resume_records_are_ignored():
    assert resumed_from({"resumed": [{"from_epoch": True}, {"from_epoch": "3"}, "x", {"from_epoch": 4}]}) == (4,)
    assert resumed_from({"resumed": "nope"}) == resumed_from(None) == ()
