"""The VGG19 feature extractor: ImageNet-trained VGG19 cut after the deepest layer asked for."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import keras
import tensorflow as tf

from nst.errors import NstError
from nst.options import VGG19_LAYERS, WEIGHTS_ENV

_WEIGHTS_HELP = f"pass --weights PATH or set {WEIGHTS_ENV} to a Keras VGG19 (include_top=False) weights file"


@functools.lru_cache(maxsize=2)
def load_vgg19(weights: str = "imagenet") -> keras.Model:
    """``keras.applications.VGG19(include_top=False)`` with ``weights`` ("imagenet": Keras
    downloads and caches the file; otherwise a path). Loaded once per process."""
    if weights != "imagenet" and not os.path.isfile(weights):
        raise NstError(f"VGG19 weights file {weights} does not exist; {_WEIGHTS_HELP}")
    try:
        model = keras.applications.VGG19(include_top=False, weights=weights)
    except Exception as error:  # Keras raises many kinds here: network, HDF5, shape mismatch.
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        if weights == "imagenet":
            raise NstError(f"could not get the VGG19 ImageNet weights ({reason}); offline? {_WEIGHTS_HELP}") from None
        raise NstError(f"{weights}: not usable as VGG19 weights ({reason}); {_WEIGHTS_HELP}") from None
    model.trainable = False
    return model


def preprocess(image: tf.Tensor) -> tf.Tensor:
    """Images in [0, 1] to what VGG19 was trained on: Keras's ``vgg19.preprocess_input``
    (Caffe style: 0..255, RGB to BGR, ImageNet channel means subtracted)."""
    return keras.applications.vgg19.preprocess_input(image * 255.0)


class FeatureExtractor:
    """Maps a batch of [0, 1] RGB images to VGG19 activations of the named layers.

    The model is cut after the deepest requested layer: Keras builds a functional model
    from the input to exactly these outputs, so nothing after it is computed.
    """

    def __init__(self, layers: Sequence[str], weights: str = "imagenet") -> None:
        unknown = [layer for layer in layers if layer not in VGG19_LAYERS]
        if unknown:
            raise NstError(f"unknown VGG19 layer {unknown[0]!r}")
        self.layers = tuple(dict.fromkeys(layers))
        vgg19 = load_vgg19(weights)
        self.model = keras.Model(
            vgg19.input, {name: vgg19.get_layer(name).output for name in self.layers}, name="vgg19_features"
        )

    def __call__(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        return self.model(preprocess(image))
