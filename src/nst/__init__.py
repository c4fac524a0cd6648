"""nst: neural style transfer (Gatys et al.) on TensorFlow/Keras with a pretrained VGG19.

    >>> from nst import stylize
    >>> result = stylize("photo.jpg", "painting.jpg", size=256, steps=100)
    >>> result.save("out.png"); result.report["final"]

TensorFlow is imported on first use of :func:`stylize`, so ``import nst`` (and ``nst --help``)
stays fast.
"""

from typing import Any

__version__ = "0.2.0"

from nst.errors import Interrupted, NstError, StoppedEarly  # noqa: E402
from nst.options import Options  # noqa: E402

__all__ = ["Interrupted", "NstError", "Options", "Progress", "Result", "StoppedEarly", "stylize", "__version__"]

_LAZY = {"stylize", "Result", "Progress"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from nst import transfer

        return getattr(transfer, name)
    raise AttributeError(f"module 'nst' has no attribute {name!r}")
