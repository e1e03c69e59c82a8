"""PySide6 + pyqtgraph front end; never imports TensorFlow or Keras (workers call core functions)."""

from workbench.gui._none_refcount import protect_none as _protect_none

_protect_none()  # PySide6 6.12 on Python 3.11 loses a reference to None per void call; see the module
