"""PySide6 + pyqtgraph front end; never imports TensorFlow or Keras (workers call core functions).

PySide6 is pinned below 6.12 in pyproject.toml: 6.12.0 drops a reference to None on every void
call under Python 3.11 and aborts the process within minutes (tests/gui/test_binding_refcounts.py).
"""
