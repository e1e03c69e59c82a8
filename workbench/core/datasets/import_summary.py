"""The facts of one image-folder import as plain JSON-able data: what `datasets add --json` prints and
what a training result can carry (`train --dataset PATH --json`), so both say the same thing."""

from __future__ import annotations


def import_summary(result) -> dict:
    """The --json form of an ImportResult: name, sizes, settings, where the test split came from, what was
    skipped (with reasons), class folders left out, and train/test leaks."""
    d = result.dataset
    return {
        "name": d.info.id, "folder": str(result.root), "classes": list(d.class_names),
        "image_shape": list(d.image_shape), "color": result.settings.color, "fit": result.settings.fit,
        "defaults": list(result.defaults), "train_size": int(len(d.y_train)), "test_size": int(len(d.y_test)),
        "train_counts": list(result.train_counts), "test_counts": list(result.test_counts),
        "split": result.split.source, "split_note": result.split.describe(),
        "skipped": len(result.skipped), "skipped_files": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "empty_classes": list(result.empty_classes),
        "leaks": [{"train": leak.train_path, "test": leak.test_path, "match": leak.match} for leak in result.leaks],
        "from_cache": result.from_cache,
    }
