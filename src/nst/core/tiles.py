"""Print sizes in bounded memory: the objective's losses and gradient gathered tile by tile.

The content loss and every Gram matrix are sums over positions. So the image is cut into tiles;
VGG19 sees each tile with a margin (the halo) of the image around it, and only the tile's own
positions are counted at each layer. Tile edges lie on multiples of 16 pixels, the stride of
VGG19's deepest layer used, so a tile's positions at every layer are exactly the image's. Added
over the tiles, these sums are the whole image's, and so are the losses.

For the gradient, the derivative of the losses with respect to the sums is taken once all tiles
are in; then each tile runs forward and backward against it, and the tiles' pixel gradients,
halos included, are added into one image. With a halo as wide as the deepest layer's receptive
field this is the whole image's gradient exactly; docs/print.md measures how close a narrower one
comes, and why the default is what it is.

A tile's passes depend only on the picture, the targets and (for the second) the losses'
derivative: :class:`TilePasses` runs them, in this process, or on Ray workers
(:mod:`nst.run.tile_workers`), and the tiles' results are added here in tile order, whoever
computed them, so that the picture is the same.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np
from keras import ops, tree

from nst.core import backend
from nst.core.features import FeatureExtractor
from nst.core.losses import Tensor
from nst.core.objective import Objective, TemporalTarget, gram_divisors, position_sums
from nst.media.tiling import Tile, Tiling, in_tile_order
from nst.options import Options, layer_shape, layer_stride

# The activations a crop's forward pass keeps for its backward pass, MB per crop pixel: 645 MB for
# a 608 px crop, each of 9 crops kept one after another (TensorFlow 2.21 on the CPU, RSS), and a margin.
KEPT_CROP_PIXEL_MB = 1.9e-3


class TiledObjective(Objective):
    """The :class:`Objective` of an image too large for one VGG19 pass, computed tile by tile:
    the same losses, and (with a wide enough halo) the same gradient.

    The optimizers call :meth:`value_and_grad` instead of compiling the objective into their step;
    ``on_tile(done, passes)`` is told of each tile as it is finished, in both of a step's passes
    (``passes`` is twice the number of tiles), so that a progress bar moves within a long step."""

    tiled = True

    def __init__(
        self,
        content: np.ndarray,
        style: np.ndarray | Sequence[np.ndarray],
        options: Options,
        masks: Sequence[np.ndarray] | None = None,
        temporal: TemporalTarget | None = None,
        *,
        tile: int,
        halo: int,
        on_tile: Callable[[int, int], None] | None = None,
        workers: Callable[[Options], TileRunner] | None = None,
    ) -> None:
        self.tile, self.halo, self.on_tile, self.workers = tile, halo, on_tile, workers
        self.alignment = options.alignment
        # The picture's tiles wrap around when it does, and so do the photo's (its content targets);
        # seen 1 px further on, the photo's are its own (:meth:`value_and_grad`'s ``shift``).
        self.tilings = [
            Tiling(content.shape, tile, halo, self.alignment, wrap=options.tileable, shift=shift) for shift in (0, 1)
        ]
        self.tiling = self.tilings[0]
        self._photo = content
        # The losses' gradient with respect to the sums and to the image itself (its own terms:
        # total variation, a video frame's temporal term), both at once.
        self._losses_gradient = backend.value_and_grad(lambda sums_and_image: self.losses(*sums_and_image))
        self._sums_gradient = backend.value_and_grad(self.losses)
        super().__init__(content, style, options, masks, temporal)

    # What Objective computes once from whole images, gathered from tiles here.
    def _content_features(self, image: np.ndarray, shift: int = 0) -> list[Tensor]:
        layers = self.options.content_layers
        maps = [np.zeros((*layer_shape(name, image.shape), self._channels(name)), np.float32) for name in layers]
        tiling = self.tilings[shift]  # the photo's, whose shape is the picture's
        for tile in tiling.tiles:
            features = self.extractor(ops.convert_to_tensor(tiling.crop_pixels(image, tile)[np.newaxis]))
            for name, layer_map in zip(layers, maps, strict=True):
                stride = layer_stride(name)
                # The tile's own positions: where they are in the crop's map, and in the image's.
                in_crop = [slice(*[(edge - corner) // stride for edge in edges]) for edges, corner in
                           zip((tile.rows, tile.columns), tile.corner, strict=True)]  # fmt: skip
                in_image = [slice(*[edge // stride for edge in edges]) for edges in (tile.rows, tile.columns)]
                layer_map[tuple(in_image)] = backend.to_numpy(features[name])[0][tuple(in_crop)]
        return [ops.convert_to_tensor(layer_map[np.newaxis]) for layer_map in maps]

    def _grams(self, image: np.ndarray, masks: Sequence[Tensor | None]) -> list[Tensor]:
        return tiled_grams(self.runner, self.options, image, self.tile, self.halo, masks)

    @functools.cached_property
    def runner(self) -> TileRunner:
        """Where the tiles' passes run: the workers given, or this process."""
        if self.workers is not None:
            return self.workers(self.options)
        return super().runner

    def _gather(
        self, image: np.ndarray, tiling: Tiling, content_maps, style_masks, keep: Hashable = None
    ) -> dict[str, list]:
        """The sums of the whole image: its tiles', added in float64 in tile order. With ``keep``
        (a step's token), the tiles' activations are kept where they fit, for the step's backward
        passes (:meth:`TilePasses.forward`)."""
        results = self.runner.forward(image, tiling, (content_maps, style_masks), keep=keep)
        return added(self._counted(results, tiling, 0) if keep is not None else results)

    def _counted(self, results: Iterable[tuple[int, Any]], tiling: Tiling, before: int) -> Iterator[tuple[int, Any]]:
        """``results`` as they come, ``on_tile`` told of each: a step's two passes count as one run
        of twice the tiles (``before``: the tiles of its first pass, in the second)."""
        for done, result in enumerate(results, start=1):
            yield result
            if self.on_tile is not None:
                self.on_tile(before + done, 2 * len(tiling))

    @functools.cached_property
    def _host_targets(self) -> tuple[list[np.ndarray], list[list[np.ndarray] | None]]:
        content_maps = [backend.to_numpy(target) for target in self.content_targets]
        style_masks = [
            None if masks is None else [backend.to_numpy(mask) for mask in masks] for _, masks in self.style_groups
        ]
        return content_maps, style_masks

    @functools.cached_property
    def _shifted_host_targets(self) -> tuple[list[np.ndarray], list[list[np.ndarray] | None]]:
        """The photo's content targets seen 1 px further on, as the picture is (its masks as they are)."""
        content_maps = [backend.to_numpy(target) for target in self._content_features(self._photo, shift=1)]
        return content_maps, self._host_targets[1]

    @property
    def shifts(self) -> bool:
        """Whether Adam's every other step sees the picture 1 px further on (``shift`` 1 in
        :meth:`value_and_grad`; ``Options.shift_pooling_grid``): not where a term is held to
        something at the pixels (a clip's previous frame), which would then be 1 px off."""
        return self.options.shift_pooling_grid and self.temporal is None

    def __call__(self, image: Tensor) -> dict[str, Tensor]:
        pixels = backend.to_numpy(image)[0]
        sums = self._gather(pixels, self.tiling, *self._host_targets)
        return self.losses(_tensors(sums), ops.convert_to_tensor(pixels[np.newaxis]))

    def value_and_grad(self, image: Tensor, shift: int = 0) -> tuple[dict[str, Tensor], Tensor]:
        """The losses of a (1, H, W, 3) image and their gradient: the sums over the tiles, their
        derivative, then each tile's pixel gradient against it, added up.

        With ``shift`` 1 (where :attr:`shifts`), VGG19 sees the picture and the photo 1 px further
        on. Every pass at the same place leaves VGG19's pooling grid in the picture: pixels paired
        two by two, a period-2 pattern that grows with the steps (``lattice`` 1.95 after 30 Adam
        steps at 384 px); Adam, which takes each step as it comes, alternates the two (1.02)."""
        pixels = backend.to_numpy(image)[0]
        image = ops.convert_to_tensor(pixels[np.newaxis])
        tiling = self.tilings[shift]
        targets = self._shifted_host_targets if shift else self._host_targets
        step = uuid.uuid4().hex  # the workers' kept activations are this step's, not another's
        sums = _tensors(self._gather(pixels, tiling, *targets, keep=step))
        if self.options.tv_weight or self.temporal is not None:
            losses, (sums_gradient, image_gradient) = self._losses_gradient((sums, image))
            gradient = np.array(backend.to_numpy(image_gradient)[0])  # written into: JAX's may be read-only
        else:  # no term of the image itself: no image-sized gradient to take
            losses, sums_gradient = self._sums_gradient(sums, image)
            gradient = np.zeros_like(pixels)
        sums_gradient = tree.map_structure(backend.to_numpy, sums_gradient)
        results = self.runner.backward(pixels, tiling, targets, sums_gradient, keep=step)
        for index, crop_gradient in enumerate(in_tile_order(self._counted(results, tiling, len(tiling)))):
            tiling.add(gradient, tiling.tiles[index], crop_gradient)
        return losses, ops.convert_to_tensor(gradient[np.newaxis])


def added(results: Iterable[tuple[int, dict]]) -> dict[str, list]:
    """The tiles' sums (``(index, sums)`` in any order) added in float64, in tile order."""
    total = None
    for sums in in_tile_order(results):
        sums = tree.map_structure(lambda part: part.astype(np.float64), sums)
        total = sums if total is None else tree.map_structure(np.add, total, sums)
    return tree.map_structure(lambda part: part.astype(np.float32), total)


def tiled_grams(
    runner: TileRunner, options: Options, image: np.ndarray, tile: int, halo: int, masks: Sequence[Tensor | None]
) -> list[Tensor]:
    """An image's Gram matrices at the style layers, G/M (masked by ``masks``, one per layer or
    None each), gathered over its tiles: a painting too large for one VGG19 pass."""
    tiling = Tiling(image.shape, tile, halo, options.alignment)
    layer_masks = None if all(mask is None for mask in masks) else [backend.to_numpy(mask) for mask in masks]
    raw = added(runner.forward(image, tiling, (None, [layer_masks])))["grams"][0]
    divisors = gram_divisors(options.style_layers, image.shape, layer_masks)
    # Tensors, as the whole image's are: PyTorch does not subtract a tensor from an array.
    return [ops.convert_to_tensor(gram / divisor) for gram, divisor in zip(raw, divisors, strict=True)]


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
    backward). ``targets`` are the photo's content maps and the style masks, whole (the host's
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
        self.passes = {"forward": 0, "backward": 0, "kept": 0}  # what ran: a kept tile's backward is one pass

    def forward(
        self, image: np.ndarray, tiling: Tiling, targets: tuple, index: int, keep: Hashable = None
    ) -> dict[str, list]:
        """The sums of tile ``index`` over its own positions (host arrays). With ``keep`` (a step's
        token), its activations are kept for :meth:`backward` of the same token, where they fit
        in :attr:`keep_mb`: that backward pass then runs no forward pass again."""
        inputs = self.inputs(image, tiling, tiling.tiles[index], *targets)
        self.passes["forward"] += 1
        if keep is None or not self._room(keep, inputs[0].shape):
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
            self.passes["kept"] += 1
            return backend.to_numpy(pull(_tensors(sums_gradient)))[0]
        self.passes["backward"] += 1
        inputs = self.inputs(image, tiling, tiling.tiles[index], *targets)
        _, crop_gradient = self._backward(*inputs, _tensors(sums_gradient))
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
        return _tensors((crop, content_targets, content_weights, style_weights))


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


def _tensors(nest):
    """Every array of a nest as a tensor of the backend (None stays None)."""
    return tree.map_structure(lambda value: None if value is None else ops.convert_to_tensor(value), nest)


def kept_mb(crop_pixels: int) -> float:
    """The MB one crop's forward activations take, kept for its backward pass."""
    return KEPT_CROP_PIXEL_MB * crop_pixels
