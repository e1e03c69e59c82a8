"""Where the classes sit in a model's feature space: penultimate-layer features, 2-D maps (PCA, t-SNE) and
TensorBoard Projector files."""
