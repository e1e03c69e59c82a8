"""Test-wide settings: headless Qt, quiet TensorFlow, and no access to the user's real caches."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # tests are CPU-only and deterministic
# Tests must never find (or fill) a real ~/.keras cache or the user's workbench settings.
_sandbox = tempfile.mkdtemp(prefix="workbench-tests-")
os.environ["KERAS_HOME"] = os.path.join(_sandbox, "keras")
os.environ["WORKBENCH_HOME"] = os.path.join(_sandbox, "workbench")
os.environ["WORKBENCH_CACHE"] = os.path.join(_sandbox, "cache")
