"""Keeping the photo's colours, the two ways of Gatys et al. (2017), "Controlling Perceptual
Factors in Neural Style Transfer", section 5.

* ``histogram``: before the transfer, the painting's colours are moved so that their mean and
  covariance (over RGB) are the photo's; then it is ordinary style transfer.
* ``luminance``: the transfer runs on luminance only (the photo's and the painting's Y in YIQ,
  the painting's matched in mean and deviation to the photo's); the result's Y is then joined
  with the photo's I and Q.

All functions take and return float32 (H, W, 3) RGB arrays in [0, 1].
"""

from __future__ import annotations

import numpy as np

# NTSC YIQ, as in the paper (and in colorsys).
_RGB_TO_YIQ = np.array(
    [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]], dtype=np.float64
)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ)


def rgb_to_yiq(pixels: np.ndarray) -> np.ndarray:
    return (pixels.astype(np.float64) @ _RGB_TO_YIQ.T).astype(np.float32)


def yiq_to_rgb(pixels: np.ndarray) -> np.ndarray:
    return np.clip(pixels.astype(np.float64) @ _YIQ_TO_RGB.T, 0.0, 1.0).astype(np.float32)


def match_color_histogram(style: np.ndarray, content: np.ndarray) -> np.ndarray:
    """``style`` with its colours' mean and covariance made the same as ``content``'s.

    x' = A (x - mu_style) + mu_content with A = C_content^(1/2) C_style^(-1/2) (symmetric
    square roots), the paper's "image analogies" colour transform."""
    source = style.reshape(-1, 3).astype(np.float64)
    target = content.reshape(-1, 3).astype(np.float64)
    transform = _sqrt_matrix(np.cov(target, rowvar=False)) @ _sqrt_matrix(np.cov(source, rowvar=False), inverse=True)
    matched = (source - source.mean(axis=0)) @ transform.T + target.mean(axis=0)
    return np.clip(matched, 0.0, 1.0).reshape(style.shape).astype(np.float32)


def luminance_image(pixels: np.ndarray, like: np.ndarray | None = None) -> np.ndarray:
    """The luminance of ``pixels`` as a grey RGB image; with ``like``, its mean and standard
    deviation are matched to ``like``'s luminance (so the painting's tones fit the photo's)."""
    luminance = rgb_to_yiq(pixels)[..., 0]
    if like is not None:
        reference = rgb_to_yiq(like)[..., 0]
        luminance = (luminance - luminance.mean()) / max(float(luminance.std()), 1e-6)
        luminance = luminance * reference.std() + reference.mean()
    return np.repeat(np.clip(luminance, 0.0, 1.0)[..., np.newaxis], 3, axis=-1).astype(np.float32)


def with_colors_of(luminance: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The luminance (Y) of ``luminance`` joined with the chrominance (I, Q) of ``content``."""
    yiq = rgb_to_yiq(content)
    yiq[..., 0] = rgb_to_yiq(luminance)[..., 0]
    return yiq_to_rgb(yiq)


def _sqrt_matrix(matrix: np.ndarray, inverse: bool = False) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    values = np.maximum(values, 1e-8)  # a flat-coloured image has a singular covariance
    return (vectors * (values ** (-0.5 if inverse else 0.5))) @ vectors.T
