"""The experiment form: ``ExperimentPanel`` (control, panel.py) on ``ExperimentView`` (widgets, view.py);
the form's settings in the Qt-free ``FormState`` (form_state.py), which makes the run's TrainConfig and
is saved and restored as one object; labels and sentences in text.py; the parameter count's worker
function in params.py.

Nothing is imported here, so form_state.py, params.py and text.py can be used (and tested) without Qt."""
