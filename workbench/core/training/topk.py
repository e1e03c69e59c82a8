"""When top-5 accuracy means something: with 5 classes or fewer every answer is in the top 5 (always 100 %)."""

from __future__ import annotations

TOP_K = 5


def top5_meaningful(num_classes: int) -> bool:
    """True when the top-5 can miss, i.e. the network chooses among more than five classes."""
    return num_classes > TOP_K


def top5_note(num_classes: int) -> str | None:
    """Why top-5 is not shown for this many classes (one phrase), or None where it is shown."""
    if top5_meaningful(num_classes):
        return None
    return f"top-5 is meaningless with {num_classes} classes (every answer is among the top 5)"
