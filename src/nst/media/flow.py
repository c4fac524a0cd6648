"""Optical flow between video frames, warping along it, and where it can be trusted.

A flow here is an (H, W, 2) float32 array of (dx, dy) per pixel, read as "the pixel (x, y) of
this frame shows what the other frame shows at (x + dx, y + dy)". So the flow from the new
frame to the previous one warps the previous frame onto the new one (:func:`warp`), and the
reliability mask is Ruder, Dosovitskiy and Brox's (2016): pixels whose forward and backward
flows disagree (occluded or uncovered) and motion boundaries are left out, and so are pixels
whose flow leaves the frame (the border a pan uncovers).

OpenCV computes the flows on the CPU (``pip install 'nst[video]'``); docs/video.md compares
its DIS and Farneback methods on the test clip.
"""

from __future__ import annotations

import numpy as np

from nst.errors import NstError

FLOW_METHODS = ("dis", "farneback")
# The forward-backward check of Sundaram, Brox and Keutzer (2010), as Ruder et al. use it:
# |w + w'|^2 <= a (|w|^2 + |w'|^2) + b, and a motion boundary where |grad w|^2 > c |w|^2 + d.
_CONSISTENCY = (0.01, 0.5)
_BOUNDARY = (0.01, 0.002)


def _cv2():
    try:
        import cv2
    except ImportError:
        raise NstError("optical flow needs OpenCV: pip install 'nst[video]'") from None
    return cv2


def optical_flow(frame: np.ndarray, other: np.ndarray, method: str = "dis") -> np.ndarray:
    """The flow from ``frame`` to ``other`` (both (H, W, 3), uint8 or floats in [0, 1]):
    ``frame[y, x]`` shows what ``other`` shows at ``(x, y) + flow[y, x]``."""
    cv2 = _cv2()
    first, second = _grey(frame), _grey(other)
    if method == "dis":
        # MEDIUM: the preset that resolves walking people at 256 px (docs/video.md has the measures).
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(first, second, None)
    if method == "farneback":
        # OpenCV's sample settings: a 3-level pyramid halving each time, 15 px windows, 3 iterations.
        return cv2.calcOpticalFlowFarneback(first, second, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    raise NstError(f"flow must be one of {', '.join(FLOW_METHODS)}, got {method!r}")


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` resampled along ``flow`` (bilinear): ``out[y, x] = image[(x, y) + flow[y, x]]``.
    Points outside the image take the nearest edge pixel (the mask leaves them out anyway)."""
    cv2 = _cv2()
    map_x, map_y = _targets(flow)
    warped = cv2.remap(np.asarray(image, np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped.reshape(np.shape(image))


def reliable(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """The (H, W) float32 mask, 1 where ``backward`` (this frame to the previous one) can be
    trusted and 0 elsewhere: where ``forward`` (previous to this), followed from where
    ``backward`` leads, does not come back (an occlusion or disocclusion), at motion boundaries,
    and where ``backward`` leaves the frame."""
    returning = warp(forward, backward)
    loop = np.sum(np.square(backward + returning), axis=-1)
    lengths = np.sum(np.square(backward), axis=-1) + np.sum(np.square(returning), axis=-1)
    consistent = loop <= _CONSISTENCY[0] * lengths + _CONSISTENCY[1]
    gradient = sum(np.square(np.gradient(backward[..., channel], axis=axis)) for channel in (0, 1) for axis in (0, 1))
    boundary = gradient > _BOUNDARY[0] * np.sum(np.square(backward), axis=-1) + _BOUNDARY[1]
    map_x, map_y = _targets(backward)
    height, width = backward.shape[:2]
    inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    return (consistent & ~boundary & inside).astype(np.float32)


def motion(previous: np.ndarray, frame: np.ndarray, method: str = "dis") -> tuple[np.ndarray, np.ndarray]:
    """The flow from ``frame`` back to ``previous`` and its reliability mask: what warps the
    previous stylized frame onto this one, and where the result can be held to."""
    backward = optical_flow(frame, previous, method)
    return backward, reliable(backward, optical_flow(previous, frame, method))


def _targets(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel's flow leads, as the x and y maps cv2.remap takes."""
    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return grid_x + flow[..., 0], grid_y + flow[..., 1]


def _grey(image: np.ndarray) -> np.ndarray:
    """An RGB frame as the 8-bit grey image OpenCV's flows take (ITU-R 601 luma)."""
    pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        pixels = np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)
    return np.rint(pixels @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
