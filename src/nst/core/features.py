"""The VGG19 feature extractor: ImageNet-trained VGG19 cut after the deepest layer asked for."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from importlib import resources

import keras
import numpy as np
from keras import ops

from nst.core import wrap
from nst.core.losses import Tensor
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
        model = _vgg19_without_random_init(weights)
    except Exception as error:  # Keras raises many kinds here: network, HDF5, shape mismatch.
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        if weights == "imagenet":
            raise NstError(f"could not get the VGG19 ImageNet weights ({reason}); offline? {_WEIGHTS_HELP}") from None
        raise NstError(f"{weights}: not usable as VGG19 weights ({reason}); {_WEIGHTS_HELP}") from None
    model.trainable = False
    return model


def _vgg19_without_random_init(weights: str) -> keras.Model:
    """``keras.applications.VGG19(include_top=False, weights=weights)``: the same model, the same weights.

    Built plainly, it first fills every layer with random values that ``weights`` then
    overwrites; under JAX that costs 5-8 s of CPU per process (one thread), the random op being
    compiled anew for each kernel shape. So under JAX it is built in a stateless scope: Keras
    defers the random initialisation, and load_weights' assignments are kept in the scope, then
    assigned here. Keras also lists the deferred variables, to initialise them on leaving the
    next stateless scope (which fails on a variable that has a value): that private list is put
    back as it was (re-check on a Keras upgrade; tests/test_features.py does).
    """
    build = functools.partial(keras.applications.VGG19, include_top=False, weights=weights)
    if keras.backend.backend() != "jax":
        return build()
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # a Keras that keeps its list elsewhere: built plainly, slower, the same model
        return build()
    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        with keras.StatelessScope(initialize_variables=False) as scope:
            model = build()
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)
    for variable in model.weights:
        variable.assign(scope.get_current_value(variable))
    return model


def preprocess(image: Tensor) -> Tensor:
    """Images in [0, 1] to what VGG19 was trained on: Keras's ``vgg19.preprocess_input``
    (Caffe style: 0..255, RGB to BGR, ImageNet channel means subtracted)."""
    return keras.applications.vgg19.preprocess_input(image * 255.0)


@functools.lru_cache(maxsize=1)
def gatys_scales() -> dict[str, np.ndarray]:
    """Each conv layer's per-filter mean activation over the images and positions of a fixed set
    (docs/make_gatys_scales.py says which, and how the file was made); 1 for a filter that
    never fires there, so that it is left as it is."""
    with resources.files("nst").joinpath("data/vgg19_gatys_scales.npz").open("rb") as file, np.load(file) as data:
        return {name: np.where(data[name] > 0, data[name], 1.0).astype(np.float32) for name in data.files}


class FeatureExtractor:
    """Maps a batch of [0, 1] RGB images to VGG19 activations of the named layers.

    The model is cut after the deepest requested layer: Keras builds a functional model
    from the input to exactly these outputs, so nothing after it is computed.

    With ``normalization="gatys"``, the activations of Gatys et al.'s normalised VGG19: the
    network whose filters are scaled so that each one's mean activation over images and
    positions is 1. ReLU and max pooling commute with a positive factor per channel, so that
    network's layer l is exactly this one's divided per filter by its mean activation m_l
    (:func:`gatys_scales`); the features detect the same things at comparable scales.

    With ``wrap``, the network sees the image as wrapping around (a tileable picture): each
    convolution pads its input with the opposite edge instead of VGG19's zeros, then convolves
    without padding, with the same weights. Its features are those of the image repeated
    without end, exactly, when each side is a multiple of the deepest layer's stride (the
    poolings then meet the wrap-around on their grid).
    """

    def __init__(
        self, layers: Sequence[str], weights: str = "imagenet", normalization: str = "none", wrap: bool = False
    ) -> None:
        unknown = [layer for layer in layers if layer not in VGG19_LAYERS]
        if unknown:
            raise NstError(f"unknown VGG19 layer {unknown[0]!r}")
        self.layers = tuple(dict.fromkeys(layers))
        vgg19 = load_vgg19(weights)
        self.model = keras.Model(
            vgg19.input, {name: vgg19.get_layer(name).output for name in self.layers}, name="vgg19_features"
        )
        self.network = self.model
        if wrap:
            deepest = max(VGG19_LAYERS.index(name) for name in self.layers)
            self.network = functools.partial(_wrapped, [vgg19.get_layer(name) for name in VGG19_LAYERS[: deepest + 1]],
                                             self.layers)  # fmt: skip
        self.scales = None
        if normalization == "gatys":
            # A pooling layer takes the maximum of the conv layer before it: the same factor.
            conv = {name: VGG19_LAYERS[VGG19_LAYERS.index(name) - ("pool" in name)] for name in self.layers}
            self.scales = {name: ops.convert_to_tensor(1.0 / gatys_scales()[conv[name]]) for name in self.layers}

    def __call__(self, image: Tensor) -> dict[str, Tensor]:
        features = self.network(preprocess(image))
        if self.scales is None:
            return features
        return {name: value * self.scales[name] for name, value in features.items()}


def _wrapped(network: Sequence[keras.layers.Layer], names: Sequence[str], image: Tensor) -> dict[str, Tensor]:
    """VGG19's layers, in order, over an image that wraps around: each 3x3 convolution pads by
    1 px of the opposite edge and convolves without padding (the layer's own kernel and bias);
    the poolings are the layer's own. The activations of the layers in ``names``."""
    features, outputs = image, {}
    for layer in network:
        if isinstance(layer, keras.layers.Conv2D):
            reach = layer.kernel_size[0] // 2
            padded = wrap.pad(wrap.pad(features, 1, reach, True), 2, reach, True)
            features = layer.activation(ops.conv(padded, layer.kernel, padding="valid") + layer.bias)
        else:
            features = layer(features)
        if layer.name in names:
            outputs[layer.name] = features
    return outputs
