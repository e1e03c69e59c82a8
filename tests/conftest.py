"""Test-wide settings: headless Qt, quiet TensorFlow, and no access to the user's real caches."""

import os
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # tests are CPU-only and deterministic
# Tests must never find (or fill) a real ~/.keras cache or the user's workbench settings.
_sandbox = tempfile.mkdtemp(prefix="workbench-tests-")
os.environ["KERAS_HOME"] = os.path.join(_sandbox, "keras")
os.environ["WORKBENCH_HOME"] = os.path.join(_sandbox, "workbench")
os.environ["WORKBENCH_CACHE"] = os.path.join(_sandbox, "cache")


@pytest.fixture(autouse=True)
def _cycle_collection_in_the_gui_thread(request):
    """GUI tests collect reference cycles in the GUI thread only, as the window does
    (``workbench.gui.qt_app.collect_in_gui_thread``): a collection in a worker thread that destroys an earlier
    test's widgets deadlocks Qt against the GIL."""
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("qapp")
    from workbench.gui.qt_app import collect_in_gui_thread, stop_collecting_in_gui_thread

    collect_in_gui_thread()
    try:
        yield
    finally:
        stop_collecting_in_gui_thread()
