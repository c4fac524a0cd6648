"""nst: neural style transfer (Gatys et al.) on TensorFlow/Keras with a pretrained VGG19.

    >>> from nst import stylize
    >>> result = stylize("photo.jpg", "painting.jpg", size=256, steps=100)
    >>> result.save("out.png"); result.report["final"]

TensorFlow is imported on first use of :func:`stylize`, :func:`score`, :func:`reproduce` or
:func:`stylize_video`, so ``import nst`` (and ``nst --help``) stays fast. :func:`stylize_many`
runs a batch on Ray, whose workers load it.
"""

import importlib
from typing import Any

__version__ = "0.2.0"

from nst.errors import Interrupted, NstError, StoppedEarly
from nst.options import Options

__all__ = [
    "Interrupted",
    "NstError",
    "Options",
    "Progress",
    "Result",
    "StoppedEarly",
    "__version__",
    "reproduce",
    "score",
    "stylize",
    "stylize_many",
    "stylize_video",
]

# Loaded on first use: each name, and the module that holds it.
_LAZY = {
    "stylize": "nst.run.api",
    "score": "nst.run.api",
    "reproduce": "nst.run.api",
    "Result": "nst.run.result",
    "Progress": "nst.run.progress",
    "stylize_video": "nst.run.video",
    "stylize_many": "nst.run.batch",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nst' has no attribute {name!r}")
