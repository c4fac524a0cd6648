"""The quantity being minimised: VGG19 features of an image compared with the targets taken
from the content and style images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from keras import ops

from nst import losses
from nst.features import FeatureExtractor
from nst.losses import Tensor
from nst.options import Options

LOSS_NAMES = ("total", "content", "style", "tv")


@dataclass(frozen=True)
class TemporalTarget:
    """What a video frame's temporal term compares it with (see :func:`nst.losses.temporal_loss`):
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

    ``temporal`` (a video frame after the first) adds ``weight x L_temporal`` to the total and
    reports the term as ``"temporal"``.
    """

    def __init__(
        self,
        content: np.ndarray,
        style: np.ndarray | Sequence[np.ndarray],
        options: Options,
        masks: Sequence[np.ndarray] | None = None,
        temporal: TemporalTarget | None = None,
    ) -> None:
        self.options = options
        self.temporal = temporal
        if temporal is not None:
            self.warped_previous = _batch(temporal.warped_previous)
            self.reliable = _batch(np.asarray(temporal.reliable, np.float32)[..., np.newaxis])
        self.extractor = FeatureExtractor(
            options.content_layers + options.style_layers, options.resolved_weights(), options.vgg_normalization
        )
        content_features = self.extractor(_batch(content))
        styles = [style] if isinstance(style, np.ndarray) else list(style)
        style_features = [self.extractor(_batch(image)) for image in styles]
        self.content_targets = [content_features[name] for name in options.content_layers]
        # Each group: the Gram targets of one style (or of the blend) and its masks per layer, or None.
        if masks is not None and len(masks) == len(styles) > 1:
            self.style_groups = [
                (self._grams([features], (1.0,)), self._layer_masks(mask, content_features))
                for features, mask in zip(style_features, masks, strict=True)
            ]
        else:
            blended = self._grams(style_features, options.blend_weights(len(styles)))
            self.style_groups = [(blended, None if masks is None else self._layer_masks(masks[0], content_features))]
        self.style_targets = self.style_groups[0][0]
        self.layer_weights = options.layer_weights
        if options.balance_style_layers:
            self.layer_weights = self._balanced_weights(content_features)

    def _grams(self, style_features: list[dict[str, Tensor]], blend: Sequence[float]) -> list[Tensor]:
        weighted = list(zip(blend, style_features, strict=True))
        return [
            sum(weight * losses.normalized_gram(features[name]) for weight, features in weighted)
            for name in self.options.style_layers
        ]

    def _layer_masks(self, mask: np.ndarray, layer_features: dict[str, Tensor]) -> list[Tensor]:
        """The mask at each style layer's resolution (area-averaged, as the layers pool)."""
        mask = np.asarray(mask, np.float32)
        return [
            ops.convert_to_tensor(area_resize(mask, layer_features[name].shape[1:3])[np.newaxis, :, :, np.newaxis])
            for name in self.options.style_layers
        ]

    def __call__(self, image: Tensor) -> dict[str, Tensor]:
        options = self.options
        features = self.extractor(image)
        content = sum(
            losses.content_loss(target, features[name], options.normalization)
            for target, name in zip(self.content_targets, options.content_layers, strict=True)
        )
        if options.normalization == "mean":
            content = content / float(len(options.content_layers))
        generated = [features[name] for name in options.style_layers]
        style = sum(
            losses.style_loss(targets, generated, self.layer_weights, options.normalization, masks)
            for targets, masks in self.style_groups
        )
        variation = losses.total_variation_loss(image, options.normalization)
        total = losses.total_loss(
            content, style, variation, options.content_weight, options.style_weight, options.tv_weight
        )
        terms = {"total": total, "content": content, "style": style, "tv": variation}
        if self.temporal is not None:
            terms["temporal"] = losses.temporal_loss(image, self.warped_previous, self.reliable)
            terms["total"] = total + self.temporal.weight * terms["temporal"]
        return terms

    def style_layer_losses(self, image: np.ndarray) -> dict[str, float]:
        """Each style layer's term w_l E_l of the style loss (summed over the paintings'
        groups), before the 1/L of the mean form: what each layer contributes."""
        terms = self._style_terms(self.extractor(_batch(image)), self.layer_weights)
        return {name: float(term) for name, term in zip(self.options.style_layers, terms, strict=True)}

    def _style_terms(self, features: dict[str, Tensor], layer_weights: Sequence[float]) -> list[Tensor]:
        terms = []
        for index, (name, weight) in enumerate(zip(self.options.style_layers, layer_weights, strict=True)):
            groups = [
                losses.style_layer_loss(
                    targets[index], features[name], self.options.normalization, masks and masks[index]
                )
                for targets, masks in self.style_groups
            ]
            terms.append(weight * sum(groups))
        return terms

    def _balanced_weights(self, features: dict[str, Tensor]) -> tuple[float, ...]:
        """Layer weights under which every style layer's term is the same for the photo, and
        their sum what it was: each layer counts equally at the start, whatever its scale."""
        terms = [float(term) for term in self._style_terms(features, self.options.layer_weights)]
        equal_share = sum(terms) / len(terms)
        return tuple(
            weight * equal_share / term if term > 0 else weight
            for weight, term in zip(self.options.layer_weights, terms, strict=True)
        )

    def evaluate(self, image: np.ndarray) -> dict[str, float]:
        """The losses of one (H, W, 3) image, as Python floats."""
        return {name: float(value) for name, value in self(_batch(image)).items()}


def _batch(image: np.ndarray) -> Tensor:
    return ops.convert_to_tensor(np.asarray(image, dtype=np.float32)[np.newaxis])


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
