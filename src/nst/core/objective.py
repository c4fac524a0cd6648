"""The quantity being minimised: VGG19 features of an image compared with the targets taken
from the content and style images."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from keras import ops

from nst.core import losses
from nst.core.features import FeatureExtractor
from nst.core.losses import Tensor
from nst.core.sums import gram_divisors, position_sums
from nst.media.resizing import area_resize
from nst.options import Options, layer_shape


@dataclass(frozen=True)
class TemporalTarget:
    """What a video frame's temporal term compares it with (see :func:`nst.core.losses.temporal_loss`):
    the previous stylized frame warped to this one (H, W, 3), the mask of pixels whose flow is
    reliable (H, W), and the term's weight."""

    warped_previous: np.ndarray
    reliable: np.ndarray
    weight: float


class Objective:
    """Computes ``{"total", "content", "style", "tv"}`` for a (1, H, W, 3) image in [0, 1].

    Content targets are the content image's features; style targets are the style image's
    per-position Gram matrices, or with several style images their blend
    ``sum_k b_k G_k / M_k`` (weights ``options.style_blend``, normalised to sum 1). Both are
    computed once, here.

    ``masks`` (H, W arrays in [0, 1], the content's size) confine style to regions: one mask
    for the (blended) style, or one per style image, each region taking its own painting's
    style through masked Gram matrices (Gatys et al. 2017).

    ``temporal`` (a video frame) adds ``weight x L_temporal`` to the total and reports the term
    as ``"temporal"``.

    What is compared with (the content features, the Gram targets, the masks, the layer weights,
    under ``"photo"`` the photo's energies at the content layers, the temporal term's frame, mask
    and weight) is :attr:`targets`, a nest of tensors that the losses take as an input: a step
    compiled for one objective serves every other objective of the same :attr:`signature`, given
    its targets (a clip's frames, :mod:`nst.core.optimizers`).
    """

    def __init__(
        self,
        content: np.ndarray,
        style: np.ndarray | Sequence[np.ndarray],
        options: Options,
        masks: Sequence[np.ndarray] | None = None,
        temporal: TemporalTarget | None = None,
        painting_tile: int | None = None,
    ) -> None:
        self.options = options
        self.temporal = temporal
        self.painting_tile = painting_tile
        layers = options.content_layers + options.style_layers
        self.extractor = FeatureExtractor(layers, options.resolved_weights(), options.vgg_normalization)
        # The picture's features, and the photo's it is held to: of a picture that wraps around, for
        # a tileable one (whose photo is made to wrap too). The paintings' edges do not meet: their
        # Gram matrices are the plain network's.
        self.image_extractor = (
            FeatureExtractor(layers, options.resolved_weights(), options.vgg_normalization, wrap=True)
            if options.tileable
            else self.extractor
        )
        self.shape = content.shape[:2]
        styles = [style] if isinstance(style, np.ndarray) else list(style)
        self.content_targets = self._content_features(content)
        # Each group: the Gram targets of one style (or of the blend) and its masks per layer, or None.
        if masks is not None and len(masks) == len(styles) > 1:
            self.style_groups = [
                (self._painting_grams([image], (1.0,)), self._layer_masks(mask))
                for image, mask in zip(styles, masks, strict=True)
            ]
        else:
            blended = self._painting_grams(styles, options.blend_weights(len(styles)))
            self.style_groups = [(blended, None if masks is None else self._layer_masks(masks[0]))]
        self.style_targets = self.style_groups[0][0]
        # What the sums of squares and the Gram matrices of the whole image are divided by.
        self.content_counts = [
            float(math.prod(layer_shape(name, self.shape))) * self._channels(name) for name in options.content_layers
        ]
        self.gram_divisors = [
            gram_divisors(options.style_layers, self.shape, layer_masks) for _, layer_masks in self.style_groups
        ]
        self.layer_weights = options.layer_weights
        # Under "photo" each content layer's loss is over the photo's mean squared activation there.
        self.content_energies = None
        if options.normalization == "photo":
            self.content_energies = [max(float(ops.mean(ops.square(target))), 1e-12) for target in self.content_targets]
            self.layer_weights = self._photo_relative_weights(content)
        elif options.balance_style_layers:
            self.layer_weights = self._balanced_weights(content)
        self.targets = {
            "content": self.content_targets,
            "style": [targets for targets, _ in self.style_groups],
            "masks": [layer_masks for _, layer_masks in self.style_groups],
            "layer_weights": [ops.convert_to_tensor(np.float32(weight)) for weight in self.layer_weights],
        }
        if self.content_energies is not None:
            # Each photo (a clip's frame) has its own energies: inputs of the step, as its features are.
            energies = [ops.convert_to_tensor(np.float32(energy)) for energy in self.content_energies]
            self.targets["content_energies"] = energies
        if temporal is not None:
            self.targets["temporal"] = {
                "warped_previous": _batch(temporal.warped_previous),
                "reliable": _batch(np.asarray(temporal.reliable, np.float32)[..., np.newaxis]),
                "weight": ops.convert_to_tensor(np.float32(temporal.weight)),
            }

    @property
    def signature(self) -> tuple:
        """Everything the losses read besides :attr:`targets`: objectives with the same signature
        compute the same function of an image and targets, so one compiled step serves them all."""
        options = self.options
        return (
            type(self).__name__, tuple(self.shape), options.content_layers, options.style_layers,
            options.normalization, options.vgg_normalization, options.resolved_weights(), options.tileable,
            options.content_weight, options.style_weight, options.tv_weight,
            tuple(tuple(divisors) for divisors in self.gram_divisors),
        )  # fmt: skip

    # Whether Adam's every other step sees the picture 1 px further on (Options.shift_pooling_grid):
    # only in tiles (nst.core.tiles). Whole, Adam keeps one place: moving by turns measured worse at
    # 256 px (docs/quality.md#vgg19s-pooling-grid).
    shifts = False

    def _content_features(self, image: np.ndarray) -> list[Tensor]:
        """The content image's features at the content layers (tiled objectives gather them by tiles)."""
        features = self.image_extractor(_batch(image))
        return [features[name] for name in self.options.content_layers]

    def _grams(self, image: np.ndarray, masks: Sequence[Tensor | None]) -> list[Tensor]:
        """The image's per-position Gram matrices at the style layers, masked by ``masks`` (one per
        layer, or None each): G/M, or the masked form (:func:`losses.normalized_gram`)."""
        features = self.extractor(_batch(image))
        return [
            losses.normalized_gram(features[name], mask)
            for name, mask in zip(self.options.style_layers, masks, strict=True)
        ]

    def _painting_grams(self, paintings: list[np.ndarray], blend: Sequence[float]) -> list[Tensor]:
        unmasked = [None] * len(self.options.style_layers)
        grams = [self._painting_gram(painting, unmasked) for painting in paintings]
        return [
            sum(weight * each[layer] for weight, each in zip(blend, grams, strict=True))
            for layer in range(len(unmasked))
        ]

    def _painting_gram(self, painting: np.ndarray, unmasked: list[None]) -> list[Tensor]:
        """A painting's Gram matrices: in tiles of ``painting_tile`` px where it is larger (its
        whole pass would not fit in memory beside the picture's), the same matrices."""
        if self.painting_tile is None or max(painting.shape[:2]) <= self.painting_tile:
            return self._grams(painting, unmasked)
        from nst.core.tiles import tiled_grams  # tiles build on this module

        return tiled_grams(self.runner, self.options, painting, self.painting_tile, self.options.halo, unmasked)

    @functools.cached_property
    def runner(self):
        """What runs passes over tiles (:class:`nst.core.tile_passes.TileRunner`), compiled once for this
        objective: here, one after another in this process (a tiled objective's may be Ray's)."""
        from nst.core.tile_passes import LocalTiles, TilePasses  # tiles build on this module

        return LocalTiles(TilePasses(self.options, self.extractor))

    def _channels(self, name: str) -> int:
        return int(self.extractor.model.get_layer(name).output.shape[-1])

    def _layer_masks(self, mask: np.ndarray) -> list[Tensor]:
        """The mask at each style layer's resolution (area-averaged, as the layers pool)."""
        mask = np.asarray(mask, np.float32)
        return [
            ops.convert_to_tensor(area_resize(mask, layer_shape(name, self.shape))[np.newaxis, :, :, np.newaxis])
            for name in self.options.style_layers
        ]

    def losses(self, sums: dict[str, list], image: Tensor, targets: dict | None = None) -> dict[str, Tensor]:
        """The losses of an image from its :func:`nst.core.sums.position_sums` (gathered over the
        whole image, or over its tiles): the spec's content and style losses, total variation, and
        their weighted total; against ``targets``, :attr:`targets` unless given."""
        options = self.options
        targets = self.targets if targets is None else targets
        content = losses.content_loss(
            sums["content"], self.content_counts, options.normalization, targets.get("content_energies")
        )
        style = sum(
            losses.style_loss(
                grams_wanted,
                [gram / divisor for gram, divisor in zip(grams, divisors, strict=True)],
                targets["layer_weights"],
                options.normalization,
            )
            for grams_wanted, grams, divisors in zip(targets["style"], sums["grams"], self.gram_divisors, strict=True)
        )
        variation = losses.total_variation_loss(image, options.normalization, options.tileable)
        total = losses.total_loss(
            content, style, variation, options.content_weight, options.style_weight, options.tv_weight
        )
        terms = {"total": total, "content": content, "style": style, "tv": variation}
        temporal = targets.get("temporal")
        if temporal is not None:
            terms["temporal"] = losses.temporal_loss(image, temporal["warped_previous"], temporal["reliable"])
            terms["total"] = total + temporal["weight"] * terms["temporal"]
        return terms

    def _style_terms(
        self, targets: Sequence[Tensor], grams: Sequence[Tensor], layer_weights: Sequence[float]
    ) -> list[Tensor]:
        """Each style layer's w_l E_l (:func:`losses.style_layer_loss`), before the sum over layers."""
        return [
            weight * losses.style_layer_loss(target, gram, self.options.normalization)
            for target, gram, weight in zip(targets, grams, layer_weights, strict=True)
        ]

    def __call__(self, image: Tensor, targets: dict | None = None) -> dict[str, Tensor]:
        """The losses of a (1, H, W, 3) image against ``targets`` (:attr:`targets` unless given)."""
        targets = self.targets if targets is None else targets
        features = self.image_extractor(image)
        no_weights = [None] * len(self.options.content_layers)
        sums = position_sums(self.options, features, targets["content"], no_weights, targets["masks"])
        return self.losses(sums, image, targets)

    def style_layer_losses(self, image: np.ndarray) -> dict[str, float]:
        """Each style layer's term w_l E_l of the style loss (summed over the paintings'
        groups), before the 1/L of the mean form: what each layer contributes."""
        terms = self._group_terms(image, self.layer_weights)
        return {name: float(term) for name, term in zip(self.options.style_layers, terms, strict=True)}

    def _group_terms(self, image: np.ndarray, layer_weights: Sequence[float]) -> list[Tensor]:
        groups = [
            self._style_terms(targets, self._grams(image, masks or [None] * len(targets)), layer_weights)
            for targets, masks in self.style_groups
        ]
        return [sum(layer) for layer in zip(*groups, strict=True)]

    def _balanced_weights(self, photo: np.ndarray) -> tuple[float, ...]:
        """Layer weights under which every style layer's term is the same for the photo, and
        their sum what it was: each layer counts equally at the start, whatever its scale."""
        terms = [float(term) for term in self._group_terms(photo, self.options.layer_weights)]
        equal_share = sum(terms) / len(terms)
        return tuple(
            weight * equal_share / term if term > 0 else weight
            for weight, term in zip(self.options.layer_weights, terms, strict=True)
        )

    def _photo_relative_weights(self, photo: np.ndarray) -> tuple[float, ...]:
        """Layer weights w_l / E_l(photo): each style layer's term a fraction of the photo's own
        distance from the painting at that layer, so that every layer counts whatever its scale,
        and the style loss of the photo is the mean of the w_l whatever the pair."""
        weights = self.options.layer_weights
        terms = [float(term) for term in self._group_terms(photo, (1.0,) * len(weights))]
        return tuple(weight / term if term > 0 else weight for weight, term in zip(weights, terms, strict=True))

    def evaluate(self, image: np.ndarray) -> dict[str, float]:
        """The losses of one (H, W, 3) image, as Python floats."""
        return {name: float(value) for name, value in self(_batch(image)).items()}


def _batch(image: np.ndarray) -> Tensor:
    return ops.convert_to_tensor(np.asarray(image, dtype=np.float32)[np.newaxis])
