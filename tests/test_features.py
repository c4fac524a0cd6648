"""The truncated extractor against the full Keras VGG19 (real weights)."""

import h5py
import keras
import numpy as np
import pytest
from keras import ops

from nst.core.features import FeatureExtractor, load_vgg19, preprocess
from nst.errors import NstError
from nst.options import CONTENT_LAYERS, STYLE_LAYERS
from tests.conftest import KERAS_CACHE
from tests.helpers import rng, tolerance_used, within

# core: runs on every Keras backend (make test)
pytestmark = pytest.mark.core


def full_vgg19_activations(weights, image):
    """Runs every layer of the full Keras VGG19, one after the other, recording each output."""
    activations, x = {}, preprocess(image)
    for layer in load_vgg19(weights).layers[1:]:
        x = layer(x)
        activations[layer.name] = ops.convert_to_numpy(x)
    return activations


@pytest.mark.e2e
def test_extractor_matches_full_vgg19_and_stops_at_the_deepest_layer(weights):
    image = ops.convert_to_tensor(rng(1).uniform(size=(1, 64, 48, 3)).astype(np.float32))
    extractor = FeatureExtractor(CONTENT_LAYERS + STYLE_LAYERS, weights)
    features = extractor(image)
    full = full_vgg19_activations(weights, image)
    assert set(features) == set(CONTENT_LAYERS + STYLE_LAYERS)
    for name, value in features.items():
        used = tolerance_used(ops.convert_to_numpy(value), full[name], rtol=1e-4, atol=1e-3 * np.abs(full[name]).max())
        within(f"{name} of the truncated extractor against the full VGG19's, tolerance used", used, at_most=1.0)
    computed = [layer.name for layer in extractor.model.layers]
    assert computed[-1] == "block5_conv2"
    assert not {"block5_conv3", "block5_conv4", "block5_pool"} & set(computed)


@pytest.mark.e2e
def test_loaded_weights_are_the_files_bit_for_bit(weights):
    """Every conv layer's kernel and bias are the file's exactly (under JAX the model is built
    without its random initial values), and leaving a stateless scope afterwards does not try
    to initialise them again."""
    model = load_vgg19(weights)
    with keras.StatelessScope():
        pass
    layers = [layer for layer in model.layers if layer.weights]
    assert len(layers) == 16
    with h5py.File(KERAS_CACHE if weights == "imagenet" else weights, "r") as file:
        for layer in layers:
            stored = [file[layer.name][name][()] for name in file[layer.name].attrs["weight_names"]]
            assert len(stored) == len(layer.weights) == 2
            for value, variable in zip(stored, layer.weights, strict=True):
                np.testing.assert_array_equal(ops.convert_to_numpy(variable.value), value)


@pytest.mark.e2e
def test_shallow_extractor_computes_only_the_first_block(weights):
    extractor = FeatureExtractor(["block1_conv2"], weights)
    assert [layer.name for layer in extractor.model.layers][1:] == ["block1_conv1", "block1_conv2"]


@pytest.mark.e2e
def test_preprocess_is_caffe_style():
    image = rng(2).uniform(size=(1, 2, 2, 3)).astype(np.float32)
    expected = image[..., ::-1] * 255.0 - np.array([103.939, 116.779, 123.68], dtype=np.float32)
    used = tolerance_used(ops.convert_to_numpy(preprocess(ops.convert_to_tensor(image))), expected, 1e-5, 1e-4)
    within("preprocessing against Caffe's, tolerance used", used, at_most=1.0)


@pytest.mark.e2e
def test_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(NstError, match="does not exist"):
        load_vgg19(str(tmp_path / "nothing.h5"))


@pytest.mark.e2e
def test_bad_weights_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5 at all")
    with pytest.raises(NstError, match="not usable as VGG19 weights"):
        load_vgg19(str(bad))
