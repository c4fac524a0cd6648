"""A tile's two passes (:class:`TilePasses`) and who runs them (:class:`TileRunner`): this
process (:class:`LocalTiles`) or Ray's workers (:mod:`nst.run.tile_workers`). The first pass
gives the tile's sums over its own positions; the second its share of the picture's gradient
against the losses' derivative with respect to the sums, from the first pass's activations where
they were kept (:meth:`TilePasses.forward`), else from a forward and a backward pass."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Protocol

import numpy as np
from keras import ops, tree

from nst.core import backend
from nst.core.features import FeatureExtractor
from nst.core.sums import position_sums
from nst.media.tiling import Tile, Tiling
from nst.options import Options, layer_stride

# The activations a crop's forward pass keeps for its backward pass, MB per crop pixel: 1017 MB for
# a 608 px crop under JAX on the CPU (benchmarks/kept_activations.py, RSS), and a margin.
KEPT_CROP_PIXEL_MB = 2.9e-3


class TileRunner(Protocol):
    """Runs the tiles' passes (:class:`TilePasses`) and yields ``(index, result)`` for each tile
    as it is done, in any order: :class:`LocalTiles`, or Ray's workers (:mod:`nst.run.tile_workers`)."""

    def forward(
        self, image: np.ndarray, tiling: Tiling, targets: tuple, keep: Hashable = None
    ) -> Iterator[tuple[int, dict]]: ...

    def backward(
        self, image: np.ndarray, tiling: Tiling, targets: tuple, sums_gradient: dict, keep: Hashable = None
    ) -> Iterator[tuple[int, np.ndarray]]: ...


class TilePasses:
    """A tile's two passes, compiled once per crop size: its sums (forward), and its share of the
    picture's gradient against the losses' derivative with respect to the sums (forward and
    backward, or backward alone from the activations the first pass kept, up to ``keep_mb`` MB of
    them). ``targets`` are the photo's content maps and the style masks, whole (the host's
    arrays: :attr:`TiledObjective._host_targets`); each pass cuts its tile's part."""

    def __init__(self, options: Options, extractor: FeatureExtractor | None = None, keep_mb: float = 0.0) -> None:
        self.options = options
        layers = options.content_layers + options.style_layers
        self.extractor = extractor or FeatureExtractor(layers, options.resolved_weights(), options.vgg_normalization)
        self._forward = backend.compile(self._crop_sums, options.jit_compile)
        self._forward_kept = backend.pullback(self._forward)
        self._backward = backend.compile(backend.value_and_grad(self._crop_surrogate), options.jit_compile)
        self.keep_mb = keep_mb
        self.kept: dict[int, Callable] = {}  # tile -> its forward pass's pullback, for the round `_round`
        self._round: Hashable = None
        self.pass_counts = {"forward": 0, "backward": 0, "kept": 0}  # what ran: a kept tile's backward is one pass

    def forward(
        self, image: np.ndarray, tiling: Tiling, targets: tuple, index: int, keep: Hashable = None
    ) -> dict[str, list]:
        """The sums of tile ``index`` over its own positions (host arrays). With ``keep`` (a step's
        token), its activations are kept for :meth:`backward` of the same token, where they fit
        in :attr:`keep_mb` and the backend keeps them (JAX, PyTorch: :func:`backend.pullback`):
        that backward pass then runs no forward pass again."""
        inputs = self.inputs(image, tiling, tiling.tiles[index], *targets)
        self.pass_counts["forward"] += 1
        if keep is None or self._forward_kept is None or not self._room(keep, inputs[0].shape):
            return tree.map_structure(backend.to_numpy, self._forward(*inputs))
        sums, self.kept[index] = self._forward_kept(*inputs)
        return tree.map_structure(backend.to_numpy, sums)

    def backward(
        self, image: np.ndarray, tiling: Tiling, targets: tuple, sums_gradient: dict, index: int, keep: Hashable = None
    ) -> np.ndarray:
        """Tile ``index``'s crop's share of the picture's gradient, (crop height, crop width, 3):
        from its kept activations where :meth:`forward` kept them for this ``keep``, else from a
        forward and a backward pass."""
        pull = self.kept.pop(index, None) if keep is not None and keep == self._round else None
        if pull is not None:
            self.pass_counts["kept"] += 1
            return backend.to_numpy(pull(tensors(sums_gradient)))[0]
        self.pass_counts["backward"] += 1
        inputs = self.inputs(image, tiling, tiling.tiles[index], *targets)
        _, crop_gradient = self._backward(*inputs, tensors(sums_gradient))
        return backend.to_numpy(crop_gradient)[0]

    def _room(self, keep: Hashable, crop_shape: tuple[int, ...]) -> bool:
        """Whether one more crop's activations fit in :attr:`keep_mb` in round ``keep`` (a new
        round drops the last one's: a step's tiles not taken back, sent again elsewhere)."""
        if keep != self._round:
            self.kept.clear()
            self._round = keep
        return (len(self.kept) + 1) * kept_mb(crop_shape[1] * crop_shape[2]) <= self.keep_mb

    def _crop_sums(self, crop, content_targets, content_weights, style_weights):
        return position_sums(self.options, self.extractor(crop), content_targets, content_weights, style_weights)

    def _crop_surrogate(self, crop, content_targets, content_weights, style_weights, sums_gradient):
        """The sums of one crop, each weighted by the derivative of the losses with respect to it:
        its gradient is the crop's share of the whole image's gradient."""
        sums = self._crop_sums(crop, content_targets, content_weights, style_weights)
        weighted = [
            ops.sum(part * weight) for part, weight in zip(tree.flatten(sums), tree.flatten(sums_gradient), strict=True)
        ]
        return {"total": sum(weighted)}

    def inputs(self, image: np.ndarray, tiling: Tiling, tile: Tile, content_maps, style_masks) -> tuple:
        """What one crop's sums need: the crop, and per layer the content targets and position weights."""
        content_targets = content_weights = None
        if content_maps is not None:
            layers = self.options.content_layers
            content_targets = [
                tiling.cut(target[0], tile, layer_stride(name))[np.newaxis]
                for target, name in zip(content_maps, layers, strict=True)
            ]
            content_weights = [tiling.own_positions(tile, name) for name in layers]
        style_weights = []
        for layer_masks in style_masks:
            weights = []
            for index, name in enumerate(self.options.style_layers):
                own = tiling.own_positions(tile, name)
                if layer_masks is not None:
                    own = own * tiling.cut(layer_masks[index][0], tile, layer_stride(name))[np.newaxis]
                weights.append(own)
            style_weights.append(weights)
        crop = tiling.crop_pixels(image, tile)[np.newaxis]
        return tensors((crop, content_targets, content_weights, style_weights))


class LocalTiles:
    """The tiles' passes one after another in this process."""

    def __init__(self, passes: TilePasses) -> None:
        self.passes = passes

    def forward(
        self, image: np.ndarray, tiling: Tiling, targets: tuple, keep: Hashable = None
    ) -> Iterator[tuple[int, dict]]:
        for index in range(len(tiling)):
            yield index, self.passes.forward(image, tiling, targets, index, keep)

    def backward(
        self, image: np.ndarray, tiling: Tiling, targets: tuple, sums_gradient: dict, keep: Hashable = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        for index in range(len(tiling)):
            yield index, self.passes.backward(image, tiling, targets, sums_gradient, index, keep)


def tensors(nest):
    """Every array of a nest as a tensor of the backend (None stays None)."""
    return tree.map_structure(lambda value: None if value is None else ops.convert_to_tensor(value), nest)


def kept_mb(crop_pixels: int) -> float:
    """The MB one crop's forward activations take, kept for its backward pass."""
    return KEPT_CROP_PIXEL_MB * crop_pixels
