"""Sweeps: many training runs over varied settings, grouped in one sweep folder (no TensorFlow here)."""
