"""Tileable textures: the photo made to wrap around before a tileable picture is painted from it.

A photo's edges never met: its last column is nothing like its first. A picture that wraps
around (``Options.tileable``) is painted from a photo blended with shifted copies of itself,
so that the content it is held to and the picture it starts from run on across every edge
into the opposite one, as the picture must."""

from __future__ import annotations

import numpy as np


def wrapped(photo: np.ndarray) -> np.ndarray:
    r"""The photo (H, W, 3), H and W even, made to wrap around, as GIMP's "Tile seamless" does,
    from four copies of it: itself and itself shifted by half its height, half its width, and both,

        f(y, x) = sum_{a, b in {0, 1}} v_a(y) v_b'(x) I(y + a H/2, x + b W/2)   (indices modulo H, W)

    with v_0(y) = sin^2(pi (y + 1/2) / H), v_1 = cos^2(pi (y + 1/2) / H), and v' likewise over W.
    The weights add up to 1, and each copy's weight vanishes where its own edges meet (a copy
    shifted by half the height has them across the middle row), so f runs on continuously across
    every row and column, the wrap-around included. The middle is the photo; towards the edges,
    the photo's other parts blend in."""
    photo = np.asarray(photo, np.float32)
    height, width = photo.shape[:2]
    down = np.sin(np.pi * (np.arange(height) + 0.5) / height) ** 2
    across = np.sin(np.pi * (np.arange(width) + 0.5) / width) ** 2
    blended = np.zeros_like(photo)
    for rows, row_weight in ((0, down), (height // 2, 1.0 - down)):
        for columns, column_weight in ((0, across), (width // 2, 1.0 - across)):
            weight = (row_weight[:, np.newaxis] * column_weight[np.newaxis, :])[..., np.newaxis]
            blended += weight.astype(np.float32) * np.roll(photo, (-rows, -columns), axis=(0, 1))
    return np.clip(blended, 0.0, 1.0)
