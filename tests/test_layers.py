"""The layers of the package (docs/method.md, "Where the code lives"): import-linter checks the
imports between them (pyproject.toml, run by make lint); this checks what a process loads."""

import json
import subprocess
import sys

import pytest

# Imported in a fresh process: the options, every module of media and of the front ends, and the
# package itself; then the names of the modules loaded.
IMPORT_THE_LIGHT_LAYERS = """
import importlib, json, pkgutil, sys
import nst, nst.errors, nst.options, nst.media, nst.apps
for package in (nst.media, nst.apps):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.unit
def test_the_options_media_and_front_ends_load_no_keras_or_tensorflow_when_imported():
    """The command line answers --help and refuses bad input before TensorFlow starts."""
    finished = subprocess.run(
        [sys.executable, "-c", IMPORT_THE_LIGHT_LAYERS], capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    loaded = set(json.loads(finished.stdout))
    # Every front end and every media module was imported, not only the packages.
    assert {"nst.apps.cli", "nst.apps.batch", "nst.apps.video", "nst.apps.web.app", "nst.apps.web.jobs"} <= loaded
    assert {"nst.media.images", "nst.media.animations", "nst.media.clips", "nst.media.flow"} <= loaded
    assert {"nst.media.colors", "nst.media.measures", "nst.media.feedforward"} <= loaded
    assert "nst.run.fast" in loaded  # the fast picture, which the command line and the web app make first
    assert not {"keras", "tensorflow", "jax", "torch", "nst.core", "nst.run.api"} & loaded


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
