"""Resizing pictures: to a longer side (found by arithmetic first, so that a run is sized up before
anything is allocated), in floating point (the run's photo, every Keras backend alike), and the
blur and the detail-keeping enlargement between a ladder's sizes."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from nst.errors import NstError
from nst.options import MIN_SIDE


def resize_longest_side(image: Image.Image, longest_side: int, name: str = "image", multiple: int = 1) -> Image.Image:
    """Scale ``image`` so that its longer side is ``longest_side`` pixels (each side a ``multiple``
    of that many, see :func:`fitted_size`)."""
    new_size = fitted_size(image.size, longest_side, name, multiple)
    if new_size == image.size:
        return image
    return image.resize(new_size, Image.Resampling.LANCZOS)


def resize_pixels(
    pixels: np.ndarray,
    shape: tuple[int, ...],
    resample: Image.Resampling = Image.Resampling.BICUBIC,
    *,
    wrap: bool = False,
) -> np.ndarray:
    """An image (H, W, 3) in [0, 1] (or uint16, a photo at 16 bits) brought to ``shape``'s height
    and width (bicubic, clipped): by Pillow, channel by channel in float, so that every Keras
    backend starts from the same image.

    With ``wrap`` the image goes on beyond each edge with the opposite one (a tileable texture):
    the filter reads across the edges, so the result wraps around as the image did."""
    size = (shape[1], shape[0])
    height, width = pixels.shape[:2]
    scale = 1.0 / 65535.0 if pixels.dtype == np.uint16 else 1.0
    # Beyond the edge the filter reaches 3 px of the source (Lanczos), more where it shrinks.
    margin = 3 * math.ceil(max(1.0, height / shape[0], width / shape[1])) + 1 if wrap else 0
    box = (margin, margin, margin + width, margin + height) if wrap else None
    channels = []
    for channel in range(3):
        values = np.asarray(pixels[..., channel], np.float32) * np.float32(scale)
        if wrap:
            values = np.pad(values, margin, mode="wrap")
        channels.append(np.asarray(Image.fromarray(values, "F").resize(size, resample, box=box)))
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def gaussian_blur(pixels: np.ndarray, sigma: float, *, wrap: bool = False) -> np.ndarray:
    """An (H, W, C) image blurred by a Gaussian of ``sigma`` px (mirrored at the edges; with
    ``wrap``, the opposite edge's), one channel and one axis at a time, so that a print's blur
    holds a few of its channels, never several copies of the whole image."""
    if sigma <= 0:
        return np.asarray(pixels, np.float32)
    reach = max(1, math.ceil(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-reach, reach + 1) / sigma) ** 2)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    blurred = np.empty(pixels.shape, np.float32)
    for channel in range(pixels.shape[2]):
        plane = np.asarray(pixels[..., channel], np.float32)
        for _ in range(2):  # down the columns, then (transposed) along the rows
            padded = np.pad(plane, ((reach, reach), (0, 0)), mode="wrap" if wrap else "symmetric")
            plane = sum(weight * padded[tap : tap + len(plane)] for tap, weight in enumerate(kernel)).T
        blurred[..., channel] = plane
    return blurred


def enlarged_with_detail(previous: np.ndarray, photo: np.ndarray, *, wrap: bool = False) -> np.ndarray:
    """The start of a ladder's larger size: ``previous`` (the smaller size's result) enlarged to
    ``photo``'s shape, with its interpolation lattice blurred away, plus the photo's own detail
    finer than the smaller size could hold.

    An enlarged picture carries a lattice at the enlargement's period (period 2 for exactly 2x,
    4.76 px for 861 to 4096 px) that a few steps do not remove. A Gaussian of 0.6 times the
    factor takes it out (to 0.08% at its frequency; half the factor left 0.7%, still a visible
    lattice on a textured picture), and what it takes out of the picture, the detail the smaller
    size never had, comes from the photo: G * enlarged + (photo - G * photo). With ``wrap`` (a
    tileable picture) both the enlargement and the blurs run across the wrap-around."""
    sigma = 0.6 * photo.shape[0] / previous.shape[0]
    enlarged = resize_pixels(previous, photo.shape, wrap=wrap)
    detail = photo - gaussian_blur(photo, sigma, wrap=wrap)
    return np.clip(gaussian_blur(enlarged, sigma, wrap=wrap) + detail, 0.0, 1.0)


def fitted_size(size: tuple[int, int], longest_side: int, name: str = "image", multiple: int = 1) -> tuple[int, int]:
    """The (width, height) that :func:`resize_longest_side` gives an image of ``size``, found
    by arithmetic alone, so that a run can be sized up before anything is allocated. With a
    ``multiple``, each side is rounded to the nearest multiple of it (a tileable picture's)."""
    width, height = size
    scale = longest_side / max(width, height)
    new_size = tuple(max(multiple, multiple * round(side * scale / multiple)) for side in (width, height))
    if min(new_size) < MIN_SIDE:
        raise NstError(
            f"{name}: {width}x{height} is too narrow: at {longest_side} px its shorter side would be "
            f"{min(new_size)} px, and VGG19 needs at least {MIN_SIDE}"
        )
    return new_size


def area_resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` (H, W) brought to ``shape`` by area averaging: each output pixel the mean of the
    input area it covers, fractions of pixels counted by their fraction (as TensorFlow's "area")."""
    return _area_weights(shape[0], image.shape[0]) @ image @ _area_weights(shape[1], image.shape[1]).T


def _area_weights(size: int, source: int) -> np.ndarray:
    """The (size, source) matrix whose row i averages the source cells under output cell i."""
    edges = np.arange(size + 1) * (source / size)
    starts, ends = edges[:-1, None], edges[1:, None]
    cells = np.arange(source)[None, :]
    overlap = np.clip(np.minimum(ends, cells + 1) - np.maximum(starts, cells), 0.0, None)
    return (overlap / (source / size)).astype(np.float32)
