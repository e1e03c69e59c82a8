"""Rich text of the dataset tab: its title and the notes under it for the user's own images."""

from __future__ import annotations

from workbench.core.text import sanitize


def title_text(info) -> str:
    """The title of a dataset on show (a DatasetInfo): its name and class count."""
    return f"<b>{sanitize(info.title)}</b> — {info.num_classes} classes"


def import_notes(result) -> str:
    """Rich text under the title: how the images were made to fit, where the test split came from, leaks."""
    lines = [f"{sanitize(result.settings.describe())}"
             + (f" ({' and '.join(result.defaults)} chosen from the images)" if result.defaults else ""),
             sanitize(result.split.describe(), 300).capitalize()]
    if result.empty_classes:
        lines.append("Class folders without a usable image (left out): "
                     + ", ".join(sanitize(c, 60) for c in result.empty_classes))
    if result.leaks:
        first = result.leaks[0]
        more = f" and {len(result.leaks) - 1:,} more" if len(result.leaks) > 1 else ""
        lines.append(f"<span style='color:#b00020'>Leakage: {len(result.leaks):,} test images are also in the "
                     f"training images (e.g. {sanitize(first.test_path, 120)} = {sanitize(first.train_path, 120)}"
                     f"{more}).</span>")
    return "<br>".join(lines)
