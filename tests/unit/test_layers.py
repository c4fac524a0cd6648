"""The layers of the package (docs/method.md, "Where the code lives"): import-linter checks the
imports between them (pyproject.toml, run by make lint); this checks what a process loads."""

import json
import subprocess
import sys

IMPORT_THE_LIGHT_LAYERS = """
import importlib, json, pkgutil, sys
import nst, nst.errors, nst.options, nst.media, nst.apps
import nst.run.batch, nst.run.video  # the library's, which nst batch and nst video import before their runs
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
    assert {"nst.apps.cli", "nst.apps.cli.handlers", "nst.apps.web.app", "nst.apps.web.jobs"} <= loaded
    assert {"nst.run.batch", "nst.run.video"} <= loaded
    assert {"nst.media.images", "nst.media.animations", "nst.media.clips", "nst.media.flow"} <= loaded
    assert {"nst.media.resizing", "nst.media.saving", "nst.media.sixteen_bit"} <= loaded
    assert {"nst.media.colors", "nst.media.measures", "nst.media.feedforward"} <= loaded
    assert {"nst.media.bands", "nst.media.pattern_measures"} <= loaded
    assert "nst.run.fast" in loaded  # the fast picture, which the command line and the web app make first
    assert not {"keras", "tensorflow", "jax", "torch", "nst.core", "nst.run.api"} & loaded


def test_the_names_import_nst_offers_are_the_librarys_not_the_front_ends():
    """``nst.stylize_video`` and the others load by name on first use, which import-linter cannot
    follow: their modules are the library's (nst.apps imports the library, never the reverse)."""
    import nst

    assert all(module.startswith("nst.run.") for module in nst._LAZY.values())
