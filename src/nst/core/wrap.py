"""Pictures that wrap around (``Options.tileable``): beyond each edge lies the opposite edge, so
that the picture placed side by side with itself shows no seam. What pads an image (VGG19's
convolutions, the preconditioner's blurs) pads it with its own other side instead of zeros."""

from __future__ import annotations

import numpy as np
from keras import ops

from nst.core.losses import Tensor


def pad(tensor: Tensor, axis: int, reach: int, wrap: bool) -> Tensor:
    """``tensor`` with ``reach`` values added before and after along ``axis``: the opposite edge's
    (``wrap``), or zeros."""
    if not wrap:
        widths = [(0, 0)] * len(tensor.shape)
        widths[axis] = (reach, reach)
        return ops.pad(tensor, widths)
    length = tensor.shape[axis]
    if reach > length:  # a coarse level of a pyramid, narrower than the reach: it wraps more than once
        return ops.take(tensor, np.arange(-reach, length + reach) % length, axis=axis)
    edges = [_part(tensor, axis, slice(length - reach, length)), tensor, _part(tensor, axis, slice(0, reach))]
    return ops.concatenate(edges, axis=axis)


def _part(tensor: Tensor, axis: int, part: slice) -> Tensor:
    index = [slice(None)] * len(tensor.shape)
    index[axis] = part
    return tensor[tuple(index)]
