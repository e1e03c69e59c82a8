"""The question before the report's runs are queued: the runs, the time they would take here (an estimate,
and from what), and which data is missing, with Download / Open for it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.datasets import DATASETS
from workbench.core.runs.report_plan import ReportPlan, about
from workbench.gui.widgets.rich_text import html_text

QUEUE_ALL, QUEUE_WITH_DATA = "all", "with-data"  # ReportDialog.choice after accept()


def plan_html(plan: ReportPlan) -> str:
    """The runs, each with its estimate and where the estimate comes from, the total, and the missing data."""
    rows = []
    for r in plan.runs:
        missing = " — <b>data not on disk</b>" if r.data_missing else ""
        rows.append(f"<li>{html_text(r.spec.label)}: 30 epochs, {about(r.seconds)} "
                    f"<small>({r.images_per_sec:,.0f} images/s, {html_text(r.source)})</small>{missing}</li>")
    text = (f"<p>The course report's {len(plan.runs)} runs go into the queue, each trained for 30 epochs with "
            f"the report's settings:</p><ul>{''.join(rows)}</ul>"
            f"<p>In all <b>{about(plan.total_seconds)}</b> of training on this machine — an estimate, from the "
            "speed of earlier runs of each network in the runs folder where there are some, else from a rough "
            "figure per network measured on a 2-core CPU.</p>")
    if plan.missing:
        names = ", ".join(DATASETS[d].title for d in plan.missing)
        text += (f"<p><b>{html_text(names)} {'is' if len(plan.missing) == 1 else 'are'} not on disk</b>: "
                 "the runs that need it would fail at once. Download it or open the folder you have it in, "
                 "or queue only the runs whose data is here.</p>")
    return text


class ReportDialog(QDialog):
    """``choice`` is QUEUE_ALL or QUEUE_WITH_DATA after accept(); Download / Open emit the dataset id and
    close the dialog without queueing."""

    download_requested = Signal(str)
    open_requested = Signal(str)

    def __init__(self, plan: ReportPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reproduce the report")
        self.plan = plan
        self.choice = ""
        self.text = QLabel(plan_html(plan))
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        self.data_buttons: dict[str, tuple[QPushButton, QPushButton]] = {}
        for dataset_id in plan.missing:
            title = DATASETS[dataset_id].title
            download, open_ = QPushButton(f"Download {title}"), QPushButton(f"Open {title} folder…")
            download.clicked.connect(lambda _=False, d=dataset_id: self._data(self.download_requested, d))
            open_.clicked.connect(lambda _=False, d=dataset_id: self._data(self.open_requested, d))
            row = QHBoxLayout()
            row.addWidget(download)
            row.addWidget(open_)
            row.addStretch(1)
            layout.addLayout(row)
            self.data_buttons[dataset_id] = (download, open_)
        with_data = len(plan.with_data())
        self.queue_all_button = QPushButton(f"Queue all {len(plan.runs)} runs")
        self.queue_with_data_button = QPushButton(f"Queue the {with_data} runs whose data is here")
        self.queue_with_data_button.setVisible(bool(plan.missing) and with_data > 0)
        self.cancel_button = QPushButton("Cancel")
        self.queue_all_button.clicked.connect(lambda: self._queue(QUEUE_ALL))
        self.queue_with_data_button.clicked.connect(lambda: self._queue(QUEUE_WITH_DATA))
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.queue_with_data_button, self.queue_all_button, self.cancel_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        (self.queue_with_data_button if plan.missing and with_data else self.queue_all_button).setDefault(True)

    @Slot()
    def _queue(self, choice: str) -> None:
        self.choice = choice
        self.accept()

    def _data(self, signal, dataset_id: str) -> None:
        self.reject()
        signal.emit(dataset_id)
