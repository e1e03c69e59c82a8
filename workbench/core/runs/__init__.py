"""Training runs on disk and what the workbench does with them, without TensorFlow at import time.

- folder: the one reader of a run folder (config, result, history; capped, damage becomes notes)
- summary: one run's summary and the config it started with (to repeat or resume it)
- table, filters, export: the runs table — one row per run, filter and sort, CSV and Markdown
- meta: a run's own labels (name, tags, note) in meta.json
- trash: delete a run into a trash folder and restore it
- queue, queue_runner: the queue file and the runner that works it off
- report_table: the course report's table with our figures beside its own

The run folder's layout, its name rule and the capped file readers sit one floor down in
workbench.core.training.rundir, because training writes the folders these modules read.
"""
