"""The layers of the package (docs/method.md, "Where the code lives"): import-linter checks the
imports between them (pyproject.toml, run by make lint); this checks what a process loads."""

import json
import subprocess
import sys

IMPORT_THE_LIGHT_LAYERS = """
import importlib, json, pkgutil, sys
import nst, nst.errors, nst.options, nst.media, nst.apps
for package in (nst.media, nst.apps):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
print(json.dumps(sorted(sys.modules)))
"""


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
