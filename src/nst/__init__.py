"""nst: neural style transfer (Gatys et al.) on TensorFlow/Keras with a pretrained VGG19.

    >>> from nst import stylize
    >>> result = stylize("photo.jpg", "painting.jpg", size=256, steps=100)
    >>> result.save("out.png"); result.report["final"]

TensorFlow is imported on first use of :func:`stylize`, :func:`score`, :func:`reproduce` or
:func:`stylize_video`, so ``import nst`` (and ``nst --help``) stays fast. :func:`stylize_many`
runs a batch on Ray, whose workers load it.
"""

import importlib
import os
from typing import Any

# With oneDNN (TensorFlow's default on x86 CPUs) TensorFlow allocates from a pool of its own that
# never shrinks: after an 861 px run 2.8 GB stayed with the process, a print's tiled sizes went
# 1.9 GB over their estimates, and a long-lived process (the web app, a batch worker) would keep
# the memory of its largest run. The system's allocator gives memory back, with peaks about 10%
# lower, for about 6% more time per step at 512 px (docs/print.md). Read when TensorFlow starts,
# so set here, before any module of nst imports it; TF_ONEDNN_USE_SYSTEM_ALLOCATOR=0 keeps the pool.
os.environ.setdefault("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "1")

__version__ = "0.2.0"

from nst.errors import Interrupted, NstError, StoppedEarly  # noqa: E402
from nst.options import Options  # noqa: E402

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
    "stylize_video": "nst.apps.video",
    "stylize_many": "nst.apps.batch",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nst' has no attribute {name!r}")
