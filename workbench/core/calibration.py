"""Whether a model's confidence means what it says: expected calibration error, reliability bins, and
temperature scaling. Plain numpy; the model file stores a fitted temperature in its metadata."""
