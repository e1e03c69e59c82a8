"""What a user should know about an image-folder import, as plain data for JSON output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .folder_import import ImportResult


def import_summary(result: ImportResult) -> dict[str, Any]:
    """An import as plain data (`datasets add --json`, `train --json`): sizes, settings, where the test split
    came from, what was left out (skipped files, empty class folders) and test images also in train."""
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
