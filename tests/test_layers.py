"""The package offers the library lazily: ``import nst`` names the entry points and Keras loads on
their first use (what the light layers load: tests/unit/test_layers.py)."""

import json
import subprocess
import sys

import pytest

# Imported in a fresh process: the options, every module of media and of the front ends, and the
# package itself; then the names of the modules loaded.


# Every name of nst.__all__ (one missing fails the script), first those that need no run, then the
# run's; whether Keras was loaded after each.
USE_THE_PACKAGE = """
import json, sys, nst
light = [getattr(nst, name) for name in nst.__all__ if name not in ("stylize", "score", "reproduce")]
before = "keras" in sys.modules
run = {name: getattr(nst, name).__module__ for name in ("stylize", "score", "reproduce")}
print(json.dumps({"keras_before": before, "keras_after": "keras" in sys.modules, "run": run}))
"""


@pytest.mark.e2e  # loads TensorFlow in its process
def test_the_package_offers_the_library_lazily():
    """``import nst`` names the entry points; Keras and TensorFlow load on first use of the run."""
    finished = subprocess.run([sys.executable, "-c", USE_THE_PACKAGE], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    used = json.loads(finished.stdout.splitlines()[-1])
    assert (used["keras_before"], used["keras_after"]) == (False, True)
    assert used["run"] == dict.fromkeys(("stylize", "score", "reproduce"), "nst.run.api")
