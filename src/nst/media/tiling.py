"""How a picture is cut into tiles for VGG19: each tile's own pixels, the crop (the tile and a margin
of the picture around it, its halo) that VGG19 sees for it, where the crop's maps lie in the whole
picture's at every layer, and how a crop's gradient is added back into the picture.

Arrays only, no network: :mod:`nst.core.tiles` runs VGG19 over these crops, and the run plans its
steps and memory with them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from nst.errors import NstError
from nst.options import layer_shape, layer_stride


@dataclass(frozen=True)
class Tile:
    """One tile: its own pixels (``rows``, ``columns``, half-open) and the top left corner of the
    crop VGG19 sees, the tile and its halo."""

    rows: tuple[int, int]
    columns: tuple[int, int]
    corner: tuple[int, int]


class Tiling:
    """How an image of ``shape`` is cut into tiles of ``tile`` pixels with ``halo`` pixels of
    margin. Every crop has the same size (one compiled function serves them all): near an edge
    it is moved inward, which only widens the margin. Tile edges and crop corners lie on
    multiples of ``alignment``, the stride of the deepest layer used (16 for block5_conv*), so
    that a tile's positions at every layer are exactly the image's.

    With ``wrap`` (a tileable picture) there are no edges: a crop near one takes its halo from
    the opposite side, and each side must be a multiple of ``alignment``.

    With ``shift`` (1 px), VGG19 sees the picture moved up and left by that much: each crop's
    pixels are taken ``shift`` rows and columns further on (the last ones repeated at the far
    edges, or around them where the picture wraps), and their gradient goes back there. Its
    pooling grid then falls between the pixels it otherwise pairs; the layers' maps (the photo's
    content targets, the masks) keep their positions."""

    def __init__(
        self, shape: tuple[int, ...], tile: int, halo: int, alignment: int = 16, wrap: bool = False, shift: int = 0
    ) -> None:
        if tile % alignment or halo % alignment or tile <= 0 or halo < 0:
            raise NstError(f"tile and halo must be multiples of {alignment} px, got {tile} and {halo}")
        self.shape, self.tile, self.halo, self.wrap, self.shift = (shape[0], shape[1]), tile, halo, wrap, shift
        if wrap and (self.shape[0] % alignment or self.shape[1] % alignment):
            raise NstError(f"a picture that wraps around must have sides of multiples of {alignment} px, got {shape}")
        if wrap:  # the tile and its halo, wherever it is: longer than the picture, if need be
            self.crop = tuple(min(tile, length) + 2 * halo for length in self.shape)
        else:
            self.crop = tuple(_crop_length(length, tile, halo, alignment) for length in self.shape)
        corner = _wrapped_corner if wrap else _corner
        starts = [range(0, length, tile) for length in self.shape]
        self.tiles = [
            Tile(
                (top, min(top + tile, self.shape[0])),
                (left, min(left + tile, self.shape[1])),
                (corner(top, halo, self.shape[0], self.crop[0]), corner(left, halo, self.shape[1], self.crop[1])),
            )
            for top in starts[0]
            for left in starts[1]
        ]

    def __len__(self) -> int:
        return len(self.tiles)

    def positions(self, tile: Tile, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The rows and columns of the image's map at ``stride`` (1: the pixels) that the crop's map
        covers, in order: a band of the image, taken around its edges where the picture wraps."""
        return tuple(
            (corner // stride + np.arange(crop // stride)) % (length // stride)
            for corner, crop, length in zip(tile.corner, self.crop, self.shape, strict=True)
        )

    def cut(self, image: np.ndarray, tile: Tile, stride: int = 1) -> np.ndarray:
        """Of a layer's (h, w, ...) map, with that layer's ``stride`` (1: a map at the pixels), the
        part that the crop's map of that layer covers."""
        return image[np.ix_(*self.positions(tile, stride))]

    def crop_pixels(self, image: np.ndarray, tile: Tile) -> np.ndarray:
        """The crop of an (H, W, ...) picture that VGG19 sees for ``tile`` (moved by ``shift``)."""
        return image[np.ix_(*self._pixel_positions(tile))]

    def add(self, image: np.ndarray, tile: Tile, crop: np.ndarray) -> None:
        """Adds a crop's values (its pixel gradient) into the (H, W, ...) picture where they came from."""
        positions = self._pixel_positions(tile)
        region = np.ix_(*positions)
        if all(len(np.unique(indices)) == len(indices) for indices in positions):
            image[region] += crop  # each pixel once
        else:  # a crop longer than a tileable picture, or a shifted one's repeated edge, has some twice
            np.add.at(image, region, crop)

    def _pixel_positions(self, tile: Tile) -> tuple[np.ndarray, np.ndarray]:
        rows_and_columns = self.positions(tile)
        if not self.shift:
            return rows_and_columns
        return tuple(
            (indices + self.shift) % length if self.wrap else np.minimum(indices + self.shift, length - 1)
            for indices, length in zip(rows_and_columns, self.shape, strict=True)
        )

    def own_positions(self, tile: Tile, name: str) -> np.ndarray:
        """(1, h, w, 1) over the crop's map of layer ``name``: 1 at the tile's own positions, 0 in the halo."""
        stride = layer_stride(name)
        weights = np.zeros((1, *layer_shape(name, self.crop), 1), np.float32)
        rows = [(edge - tile.corner[0]) // stride for edge in tile.rows]
        columns = [(edge - tile.corner[1]) // stride for edge in tile.columns]
        weights[:, rows[0] : rows[1], columns[0] : columns[1]] = 1.0
        return weights


def _crop_length(length: int, tile: int, halo: int, alignment: int) -> int:
    """At least tile + 2 halo (or the whole length), and an aligned number of pixels short of the
    whole length, so that a crop moved against the far edge still starts on an aligned pixel."""
    wanted = tile + 2 * halo
    if wanted >= length:
        return length
    return length - alignment * ((length - wanted) // alignment)


def _corner(start: int, halo: int, length: int, crop: int) -> int:
    return min(max(0, start - halo), length - crop)


def _wrapped_corner(start: int, halo: int, length: int, crop: int) -> int:
    return start - halo  # before the first pixel, where the picture wraps: the last ones


def in_tile_order(results: Iterable[tuple[int, Any]]) -> Iterator[Any]:
    """Each tile's result in tile order, whatever order ``(index, result)`` arrive in: the sums
    and the gradient are then added up the same way wherever the tiles ran."""
    pending: dict[int, Any] = {}
    expected = 0
    for index, result in results:
        pending[index] = result
        while expected in pending:
            yield pending.pop(expected)
            expected += 1
