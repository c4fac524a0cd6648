"""The preconditioners of L-BFGS (:mod:`nst.core.lbfgs`), where its two-loop recursion starts:
the gradient lightly smoothed plus its Gaussian-pyramid levels (``"gaussian"``), block means
(``"blocks"``, the earlier default, which leaves a grid), or none (:data:`PRECONDITIONERS`)."""

from __future__ import annotations

import numpy as np
from keras import ops

from nst.core.losses import Tensor
from nst.core.wrap import pad as wrap_pad

# Of each preconditioner level over the next finer, fitted with the block pyramid (not yet refitted
# for the smooth one): objective after 150 evaluations at 256 px with weights 1, 1.4, 1.7, 2
# and 3: 9.13e6, 9.07e6, 9.12e6, 9.25e6, 9.76e6.
_PYRAMID_WEIGHT = 1.4


def _block_pyramid(image: Tensor, levels: int) -> Tensor:
    """Sum over levels of the image's 2^l x 2^l block means, weighted ``_PYRAMID_WEIGHT``^l:
    piecewise constant, so it leaves a grid of flat squares in the picture (the old default)."""
    return sum((_PYRAMID_WEIGHT**level * _block_means(image, 2**level) for level in range(1, levels + 1)), 0.0)


def _gaussian_pyramid(image: Tensor, levels: int, wrap: bool = False) -> Tensor:
    r"""Sum over levels l of E^l R^l x, weighted ``_PYRAMID_WEIGHT``^l, where R blurs with the
    binomial kernel [1 4 6 4 1]/16 and keeps every second row and column (Burt and Adelson's
    REDUCE) and E = 4 R^T (their EXPAND). E^l R^l = 4^l (R^l)^T R^l is symmetric positive
    semi-definite, so the preconditioner stays symmetric positive definite; unlike block means
    it is smooth, so what it adds to a step has no edges on a lattice. Evaluated from the
    coarsest level up, one EXPAND per level:

        sum_l w^l E^l a_l = E (w a_1 + E (w^2 a_2 + E (...)))   with a_l = R^l x

    With ``wrap`` (a tileable picture) the blurs wrap around the edges: still symmetric, and
    nothing in a step stops at an edge, so the picture stays as periodic as its gradient."""
    reduced = [image]
    for _ in range(levels):
        reduced.append(_reduce(_reduce(reduced[-1], 0, wrap), 1, wrap))
    total = ops.zeros_like(reduced[-1])
    for level in range(levels, 0, -1):
        total = _expand(total + _PYRAMID_WEIGHT**level * reduced[level], tuple(reduced[level - 1].shape), wrap)
    return total


_BINOMIAL = (1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16)
_BINOMIAL_3 = (1 / 4, 2 / 4, 1 / 4)


def _along(image: Tensor, axis: int, part: slice) -> Tensor:
    """``image[part]`` along ``axis`` (0: rows, 1: columns) of an (H, W, C) image."""
    return image[part] if axis == 0 else image[:, part]


def _blur(image: Tensor, axis: int, kernel: tuple[float, ...] = _BINOMIAL, wrap: bool = False) -> Tensor:
    """A symmetric blur along ``axis``, zeros beyond the edges (or, with ``wrap``, the opposite
    edge): a symmetric matrix, positive semi-definite for a binomial kernel (its Fourier
    transform is a power of a cosine)."""
    length, reach = image.shape[axis], len(kernel) // 2
    padded = wrap_pad(image, axis, reach, wrap)
    return sum(weight * _along(padded, axis, slice(tap, tap + length)) for tap, weight in enumerate(kernel))


def _reduce(image: Tensor, axis: int, wrap: bool = False) -> Tensor:
    return _along(_blur(image, axis, wrap=wrap), axis, slice(0, None, 2))


def _expand(image: Tensor, shape: tuple[int, ...], wrap: bool = False) -> Tensor:
    """4 R^T: the transpose of :func:`_reduce` along both axes, times 4 so that it keeps the
    mean (each R^T halves it along its axis)."""
    for axis in (0, 1):
        # The values at the even positions and zeros between them: stacked, then interleaved.
        spread = ops.stack([image, ops.zeros_like(image)], axis=axis + 1)
        merged = list(image.shape)
        merged[axis] *= 2
        spread = _along(ops.reshape(spread, merged), axis, slice(0, shape[axis]))
        image = 2 * _blur(spread, axis, wrap=wrap)
    return image


def _block_means(image: Tensor, block: int) -> Tensor:
    """The image with each ``block`` x ``block`` tile (smaller at the edges) set to its mean:
    an orthogonal projection, so the preconditioner stays symmetric and positive definite."""
    height, width, channels = image.shape
    rows, columns = -(-height // block), -(-width // block)
    padded = ops.pad(image, [(0, rows * block - height), (0, columns * block - width), (0, 0)])
    sums = ops.sum(ops.reshape(padded, (rows, block, columns, block, channels)), axis=(1, 3))
    row_counts = np.diff([*range(0, height, block), height])
    column_counts = np.diff([*range(0, width, block), width])
    means = sums / ops.convert_to_tensor((row_counts[:, None, None] * column_counts[None, :, None]).astype(np.float32))
    return ops.repeat(ops.repeat(means, block, axis=0), block, axis=1)[:height, :width]


def _smooth_identity(image: Tensor, wrap: bool = False) -> Tensor:
    """(I + B) / 2 with B the binomial blur [1 2 1]/4 along both axes: passes smooth changes
    whole and halves a checkerboard. Without it, L-BFGS's pixel-wise part grows a period-2
    pattern (VGG19's pooling grid) and speckle: at 256 px, 100 evaluations, grid 1.047 -> 1.028
    and noise 0.85 -> 0.80 on cat / Starry Night, for a 0.2% higher objective."""
    blurred = image
    for axis in (0, 1):
        blurred = _blur(blurred, axis, _BINOMIAL_3, wrap)
    return 0.5 * (image + blurred)


# Each maps an image-shaped vector, the number of pyramid levels and whether the picture wraps
# around (tileable) to H0 times it, the start of the two-loop recursion: symmetric positive
# definite, as L-BFGS needs. Block means have no blur to wrap: their blocks start at the edges.
PRECONDITIONERS = {
    "gaussian": lambda image, levels, wrap=False: (
        _smooth_identity(image, wrap) + _gaussian_pyramid(image, levels, wrap)
    ),
    "blocks": lambda image, levels, wrap=False: image + _block_pyramid(image, levels),
    "none": lambda image, levels, wrap=False: image,
}
