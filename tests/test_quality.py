"""Picture measures (grid, noise), the smooth preconditioner, the normalised VGG19 and layer balance."""

import dataclasses

import keras
import numpy as np
import pytest
from keras import ops

from nst import Options, stylize
from nst.core.features import FeatureExtractor, gatys_scales, load_vgg19
from nst.core.objective import Objective
from nst.core.preconditioners import PRECONDITIONERS
from nst.media.images import load_image
from nst.options import STYLE_LAYERS, VGG19_LAYERS
from tests.helpers import CONTENT, STYLE


@pytest.mark.e2e
def test_the_spec_loop_adds_no_grid(weights):
    result = stylize(CONTENT, STYLE, Options.preset("spec", size=96, steps=30, weights=weights))
    assert result.report["final"]["grid"] <= 1.05


@pytest.mark.e2e
def test_the_default_method_adds_no_grid_and_the_old_preconditioner_does(weights):
    default = stylize(CONTENT, STYLE, size=128, steps=50, weights=weights)
    assert default.report["final"]["grid"] <= 1.05
    assert default.report["final"]["noise"] <= 1.3
    blocks = stylize(CONTENT, STYLE, size=128, steps=50, weights=weights, preconditioner="blocks")
    assert blocks.report["final"]["grid"] > 1.1  # what the measure is for: the block pyramid's squares


@pytest.mark.core
@pytest.mark.e2e
def test_the_preconditioners_are_symmetric_and_the_smooth_one_halves_a_checkerboard():
    rng = np.random.default_rng(1)
    first, second = rng.random((2, 37, 53, 3), dtype=np.float32)
    for name in PRECONDITIONERS:

        def precondition(image, levels, name=name):
            return ops.convert_to_numpy(PRECONDITIONERS[name](ops.convert_to_tensor(image), levels))

        product = np.vdot(precondition(first, 3), second)
        assert product == pytest.approx(np.vdot(first, precondition(second, 3)), rel=1e-5)
        assert np.vdot(precondition(first, 3), first) > 0
    flat = np.ones((64, 64, 3), np.float32)
    centre = ops.convert_to_numpy(PRECONDITIONERS["gaussian"](ops.convert_to_tensor(flat), 2))[24:40, 24:40]
    np.testing.assert_allclose(centre, 1 + 1.4 + 1.4**2, rtol=1e-5)  # each level passes the mean through
    checkerboard = np.indices((64, 64)).sum(axis=0)[..., None] % 2 * np.ones(3, np.float32) - 0.5
    assert np.abs(
        ops.convert_to_numpy(PRECONDITIONERS["gaussian"](ops.convert_to_tensor(checkerboard), 2))[24:40, 24:40]
    ).max() == pytest.approx(0.25, rel=0.05)


@pytest.mark.e2e
def test_gatys_normalization_is_the_plain_network_with_each_filter_scaled(weights):
    """Against Gatys et al.'s construction itself: a VGG19 whose weights are rescaled so that each
    filter's mean activation is 1 gives, layer by layer, nst's normalised features."""
    layers = [name for name in VGG19_LAYERS if "conv" in name]
    scales = gatys_scales()
    plain = load_vgg19(weights)
    rescaled = keras.models.clone_model(plain)
    previous = np.ones(3, np.float32)
    for name in layers:
        kernel, bias = plain.get_layer(name).get_weights()
        kernel = kernel * previous[None, None, :, None] / scales[name]
        rescaled.get_layer(name).set_weights([kernel, bias / scales[name]])
        previous = scales[name]
    image = load_image(CONTENT, 48)[np.newaxis]
    normalised = FeatureExtractor(layers, weights, normalization="gatys")(image)
    outputs = keras.Model(rescaled.input, [rescaled.get_layer(name).output for name in layers])
    expected = outputs(keras.applications.vgg19.preprocess_input(image * 255.0))
    for name, value in zip(layers, expected, strict=True):
        np.testing.assert_allclose(normalised[name], value, rtol=1e-3, atol=1e-4 * float(np.abs(value).max()))
    plain_features = FeatureExtractor(layers, weights)(image)
    for name in layers:
        np.testing.assert_allclose(normalised[name] * scales[name], plain_features[name], rtol=1e-4, atol=1e-3)


@pytest.mark.e2e
def test_balanced_layers_count_equally_for_the_photo(weights):
    photo, painting = load_image(CONTENT, 64), load_image(STYLE, 64)
    mean = Options(size=64, weights=weights, normalization="mean")  # the spec's losses, where one layer dominates
    plain = Objective(photo, painting, mean)
    balanced = Objective(photo, painting, dataclasses.replace(mean, balance_style_layers=True))
    terms = list(balanced.style_layer_losses(photo).values())
    assert len(terms) == len(STYLE_LAYERS)
    np.testing.assert_allclose(terms, terms[0], rtol=1e-4)
    assert sum(terms) == pytest.approx(sum(plain.style_layer_losses(photo).values()), rel=1e-4)
    assert max(plain.style_layer_losses(photo).values()) > 0.5 * sum(terms)  # unbalanced: one layer dominates
