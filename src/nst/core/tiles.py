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
derivative: :class:`nst.core.tile_passes.TilePasses` runs them, in this process, or on Ray workers
(:mod:`nst.run.tile_workers`), and the tiles' results are added here in tile order, whoever
computed them, so that the picture is the same.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from keras import ops, tree

from nst.core import backend
from nst.core.losses import Tensor
from nst.core.objective import Objective, TemporalTarget
from nst.core.sums import gram_divisors
from nst.core.tile_passes import TileRunner, tensors
from nst.media.tiling import Tiling, in_tile_order
from nst.options import Options, layer_shape, layer_stride


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
        (a step's token: its first round, of which ``on_tile`` is told), the tiles' activations are
        kept where they fit, for the step's backward passes
        (:meth:`nst.core.tile_passes.TilePasses.forward`)."""
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
        return self.losses(tensors(sums), ops.convert_to_tensor(pixels[np.newaxis]))

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
        sums = tensors(self._gather(pixels, tiling, *targets, keep=step))
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
