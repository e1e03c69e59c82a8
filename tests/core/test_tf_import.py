"""Several worker threads may be the first to need TensorFlow at once (the window counts parameters,
builds the model view and asks for the device together); none of them may fail."""

import subprocess
import sys

RACE = r"""
import sys, threading, traceback
errors, results = [], []

def run(name, fn):
    try:
        results.append((name, fn()))
    except BaseException as exc:
        errors.append(f"{name}: {''.join(traceback.format_exception_only(exc)).strip()}")

def count():
    from workbench.core.architectures import count_params
    return count_params("simple_cnn", 10)

def probe():
    from workbench.core.training.devices import probe_devices
    return probe_devices().description

def summary():
    from workbench.core.architectures import build_model, layer_table
    return len(layer_table(build_model("toy_resnet", 10)))

threads = [threading.Thread(target=run, args=(n, f)) for n, f in (("count", count), ("probe", probe), ("summary", summary))]
assert "tensorflow" not in sys.modules
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ERRORS", errors)
print("RESULTS", sorted(results))
"""


def test_first_tensorflow_import_from_three_threads_at_once():
    out = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, timeout=600)
    assert "ERRORS []" in out.stdout, out.stdout + out.stderr[-3000:]
    assert "('count', 258762)" in out.stdout
