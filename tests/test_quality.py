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
from nst.media import measures
from nst.media.images import load_image
from nst.options import STYLE_LAYERS, VGG19_LAYERS
from tests.helpers import CONTENT, STYLE

PHOTO = load_image(CONTENT, 128)


def _block_means(image: np.ndarray, block: int) -> np.ndarray:
    height, width = (side - side % block for side in image.shape[:2])
    tiles = image[:height, :width].reshape(height // block, block, width // block, block, 3).mean(axis=(1, 3))
    return np.repeat(np.repeat(tiles, block, axis=0), block, axis=1)


@pytest.mark.unit
def test_block_means_of_a_photo_score_a_grid_and_the_photo_none():
    photo = PHOTO[:80, :120]
    assert measures.grid(_block_means(photo, 4), photo) > 1.3
    assert measures.grid(photo, photo) == pytest.approx(1.0)


@pytest.mark.unit
def test_a_grid_already_in_the_photo_does_not_count():
    photo = _block_means(PHOTO[:80, :120], 8)  # as if the photo were made of 8x8 blocks (a JPEG at its worst)
    assert measures.boundary_ratio(photo, 8) > 2
    assert measures.grid(photo, photo) == pytest.approx(1.0)


@pytest.mark.unit
def test_measures_of_an_image_taller_than_a_band_are_those_of_the_whole_array():
    """They are computed by bands of rows (a print's float64 copy would be 250 MB): the bands'
    edges and the last, short band count every boundary and interior pixel once."""
    rng = np.random.default_rng(1)
    image = rng.random((2 * measures.BAND_ROWS + 3, 40, 3))
    image[::8] *= 0.5  # a grid of rows, one of them on a band's edge
    for block in (2, 8, 16):
        rows, columns = np.abs(np.diff(image, axis=0)), np.abs(np.diff(image, axis=1))
        on_rows, on_columns = np.arange(1, len(image)) % block == 0, np.arange(1, 40) % block == 0
        on = np.concatenate([rows[on_rows].ravel(), columns[:, on_columns].ravel()]).mean()
        off = np.concatenate([rows[~on_rows].ravel(), columns[:, ~on_columns].ravel()]).mean()
        assert measures.boundary_ratio(image, block) == pytest.approx(on / off, rel=1e-12)
    laplacian = image[:-2, 1:-1] + image[2:, 1:-1] + image[1:-1, :-2] + image[1:-1, 2:] - 4 * image[1:-1, 1:-1]
    assert measures.mean_abs_laplacian(image) == pytest.approx(np.abs(laplacian).mean(), rel=1e-12)


@pytest.mark.unit
def test_noise_rises_with_the_strength_of_white_noise():
    rng = np.random.default_rng(0)
    painting = load_image(STYLE, 128)
    scores = [
        measures.noise(np.clip(PHOTO + rng.normal(0, strength, PHOTO.shape), 0, 1), PHOTO, [painting])
        for strength in (0.0, 0.02, 0.05, 0.1)
    ]
    assert scores == sorted(scores) and scores[-1] > 2 * scores[0]
    assert scores[0] <= 1.0  # the photo itself is no busier than the larger of itself and the painting


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
@pytest.mark.unit
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


@pytest.mark.unit
def test_an_older_pictures_parameters_reproduce_the_method_it_was_made_with():
    # A PNG written before these settings existed ran the plain VGG19 and the block pyramid.
    older = Options.for_reproduction({"steps": 5, "content_weight": 1e4, "style_weight": 1e-2})
    assert (older.vgg_normalization, older.preconditioner) == ("none", "blocks")
    newer = Options.for_reproduction(Options(steps=5).as_dict())
    assert newer == Options(steps=5)


@pytest.mark.unit
def test_the_spec_preset_keeps_the_plain_network():
    spec = Options.preset("spec")
    assert (spec.vgg_normalization, spec.content_weight, spec.style_weight) == ("none", 1e4, 1e-2)
