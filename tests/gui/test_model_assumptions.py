"""The Classify and Evaluate tabs say which preprocessing was used and why, where the class names came
from, and any warning the core gave; a guess is shown in the warning colour."""

from __future__ import annotations

from types import SimpleNamespace

from workbench.gui.panels.model_panel import WARNING_COLOUR, assumptions_html


class Spec:
    def describe(self) -> str:
        return "raw pixels 0..255"


def test_reason_source_and_warnings_are_shown_and_a_guess_is_marked():
    loaded = SimpleNamespace(
        preprocessing=Spec(),
        preprocessing_reason="the model scales pixels itself (Rescaling layer 'rescale')",
        preprocessing_guessed=True,
        class_names_source="the dataset named in the file (CIFAR-10)",
        warnings=("inputs look already scaled to [0, 1] \x1b[31m<b>",),
    )
    html = assumptions_html(loaded)
    assert "raw pixels 0..255 — the model scales pixels itself (Rescaling layer 'rescale')" in html
    assert html.startswith(f"<span style='color:{WARNING_COLOUR}'>⚠ <b>Preprocessing:</b>")
    assert "<b>Class names:</b> the dataset named in the file (CIFAR-10)" in html
    assert "inputs look already scaled to [0, 1] &lt;b&gt;" in html and "\x1b" not in html


def test_a_model_without_reasons_still_says_what_is_used():
    loaded = SimpleNamespace(preprocessing=Spec(), class_names=("a", "b"))
    html = assumptions_html(loaded, "CIFAR-10 (the choice above)")
    assert html == "<b>Preprocessing:</b> raw pixels 0..255<br><b>Class names:</b> CIFAR-10 (the choice above)"
    assert WARNING_COLOUR not in html
