"""Keras callbacks of the training engine, one per file.

These modules import Keras at the top: only the engine imports them, inside ``train()``,
so importing ``workbench.core.training`` stays TensorFlow-free.
"""
