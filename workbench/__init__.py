"""CIFAR experiment workbench: train, watch and inspect small image classifiers."""

__version__ = "0.1.0"
