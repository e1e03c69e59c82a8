"""Qt-free core: datasets, networks, the training engine, model files and evaluation.

Nothing in this package imports Qt; TensorFlow is imported lazily inside the functions
that need it, so importing ``workbench.core`` stays fast.
"""
