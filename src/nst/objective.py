"""The quantity being minimised: VGG19 features of an image compared with the targets taken
from the content and style images."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from nst import losses
from nst.features import FeatureExtractor
from nst.options import Options

LOSS_NAMES = ("total", "content", "style", "tv")


class Objective:
    """Computes ``{"total", "content", "style", "tv"}`` for a (1, H, W, 3) image in [0, 1].

    Content targets are the content image's features; style targets are the style image's
    per-position Gram matrices, or with several style images their blend
    ``sum_k b_k G_k / M_k`` (weights ``options.style_blend``, normalised to sum 1). Both are
    computed once, here.
    """

    def __init__(self, content: np.ndarray, style: np.ndarray | Sequence[np.ndarray], options: Options) -> None:
        self.options = options
        self.extractor = FeatureExtractor(options.content_layers + options.style_layers, options.resolved_weights())
        content_features = self.extractor(_batch(content))
        styles = [style] if isinstance(style, np.ndarray) else list(style)
        blend = options.blend_weights(len(styles))
        style_features = [self.extractor(_batch(image)) for image in styles]
        self.content_targets = [content_features[name] for name in options.content_layers]
        weighted = list(zip(blend, style_features, strict=True))
        self.style_targets = [
            tf.add_n([weight * losses.normalized_gram(features[name]) for weight, features in weighted])
            for name in options.style_layers
        ]

    def __call__(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        options = self.options
        features = self.extractor(image)
        content = tf.add_n(
            [
                losses.content_loss(target, features[name], options.normalization)
                for target, name in zip(self.content_targets, options.content_layers, strict=True)
            ]
        )
        if options.normalization == "mean":
            content = content / float(len(options.content_layers))
        style = losses.style_loss(
            self.style_targets,
            [features[name] for name in options.style_layers],
            options.layer_weights,
            options.normalization,
        )
        variation = losses.total_variation_loss(image, options.normalization)
        total = losses.total_loss(
            content, style, variation, options.content_weight, options.style_weight, options.tv_weight
        )
        return {"total": total, "content": content, "style": style, "tv": variation}

    def evaluate(self, image: np.ndarray) -> dict[str, float]:
        """The losses of one (H, W, 3) image, as Python floats."""
        return {name: float(value) for name, value in self(_batch(image)).items()}


def _batch(image: np.ndarray) -> tf.Tensor:
    return tf.convert_to_tensor(np.asarray(image, dtype=np.float32)[np.newaxis])
