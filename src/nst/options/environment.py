"""What the environment says before Keras starts: the backend Keras will start with, and the
variable naming the VGG19 weights file to load."""

from __future__ import annotations

import json
import os
from pathlib import Path

WEIGHTS_ENV = "NST_WEIGHTS"


def keras_backend() -> str:
    """The backend Keras will start with (``KERAS_BACKEND``, else ~/.keras/keras.json, else
    TensorFlow), read as Keras reads it but without importing Keras."""
    if "KERAS_BACKEND" in os.environ:
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"
