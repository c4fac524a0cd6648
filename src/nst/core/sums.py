"""What the losses add up over an image's positions: each content layer's squared differences and
each style layer's raw Gram matrix, with the positions weighted (by the style masks, or by a
tile's own positions: :mod:`nst.core.tiles`), and what a raw Gram matrix is divided by. The
whole image's :class:`nst.core.objective.Objective`, its tiles' passes
(:mod:`nst.core.tile_passes`) and a painting seen in tiles add up the same sums."""

from __future__ import annotations

import math
from collections.abc import Sequence

from keras import ops

from nst.core import losses
from nst.core.losses import Tensor
from nst.options import Options, layer_shape


def position_sums(
    options: Options,
    features: dict[str, Tensor],
    content_targets: Sequence[Tensor] | None,
    content_weights: Sequence[Tensor | None],
    style_weights: Sequence[Sequence[Tensor | None] | None],
) -> dict[str, list]:
    """What the losses add up over positions: each content layer's sum of squared differences,
    and each group's raw Gram matrix sum_ij (F o w)(F o w)^T at each style layer, with the
    positions weighted by ``content_weights`` and ``style_weights`` (None: all, 1 each).
    Without ``content_targets``, the Gram matrices only.

    Over the whole image the weights are the style masks; over a tile they keep only its own
    positions, so that the tiles' sums add up to the whole image's (:mod:`nst.core.tiles`)."""
    content = (
        [
            losses.squared_error(target, features[name], weight)
            for target, name, weight in zip(content_targets, options.content_layers, content_weights, strict=True)
        ]
        if content_targets is not None
        else []
    )
    grams = [
        [
            losses.gram_matrix(features[name] if weight is None else features[name] * weight)[0]
            for name, weight in zip(
                options.style_layers, layer_weights or [None] * len(options.style_layers), strict=True
            )
        ]
        for layer_weights in style_weights
    ]
    return {"content": content, "grams": grams}


def gram_divisors(style_layers: Sequence[str], shape: tuple[int, ...], layer_masks: Sequence | None) -> list[float]:
    """What each style layer's raw Gram matrix (a sum over positions) is divided by, for an image
    of ``shape``: M, the layer's number of positions; under masks (one per layer), the sum of
    the squared mask, as in :func:`losses.normalized_gram`."""
    if layer_masks is None:
        return [float(math.prod(layer_shape(name, shape))) for name in style_layers]
    return [max(float(ops.sum(ops.square(mask))), 1e-6) for mask in layer_masks]
