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
from nst.options import OPTIMIZER_NAMES, PRECONDITIONER_NAMES, STYLE_LAYERS, VGG19_LAYERS
from tests.helpers import CONTENT, STYLE, relative_difference, rng, tolerance_used, within


@pytest.mark.e2e
def test_the_spec_loop_adds_no_grid(weights):
    result = stylize(CONTENT, STYLE, Options.preset("spec", size=96, steps=30, weights=weights))
    within("the spec's loop: grid", result.report["final"]["grid"], at_most=1.05)


@pytest.mark.e2e
def test_the_old_block_preconditioner_leaves_a_grid(weights):
    """What the grid measure is for: the block pyramid's squares. That the default's preconditioner
    leaves none, the default's own test says (tests/test_painterly.py: grid and noise at 128 px)."""
    blocks = stylize(CONTENT, STYLE, size=128, steps=25, weights=weights, preconditioner="blocks")
    within("the block preconditioner: grid", blocks.report["final"]["grid"], above=1.1)


@pytest.mark.e2e
def test_every_optimizer_and_preconditioner_a_setting_names_runs_and_nothing_else():
    from nst.run.runner import OPTIMIZERS

    assert tuple(OPTIMIZERS) == OPTIMIZER_NAMES and tuple(PRECONDITIONERS) == PRECONDITIONER_NAMES


@pytest.mark.core
@pytest.mark.e2e
def test_the_preconditioners_are_symmetric_and_the_smooth_one_halves_a_checkerboard():
    first, second = rng(1).random((2, 37, 53, 3), dtype=np.float32)
    for name in PRECONDITIONERS:

        def precondition(image, levels, name=name):
            return ops.convert_to_numpy(PRECONDITIONERS[name](ops.convert_to_tensor(image), levels))

        product = np.vdot(precondition(first, 3), second)
        difference = relative_difference(product, np.vdot(first, precondition(second, 3)))
        within(f"{name} preconditioner: <Px, y> against <x, Py>, relative", difference, at_most=1e-5)
        within(f"{name} preconditioner: <Px, x>", np.vdot(precondition(first, 3), first), above=0)
    flat = np.ones((64, 64, 3), np.float32)
    centre = ops.convert_to_numpy(PRECONDITIONERS["gaussian"](ops.convert_to_tensor(flat), 2))[24:40, 24:40]
    used = tolerance_used(
        centre, np.full_like(centre, 1 + 1.4 + 1.4**2), rtol=1e-5
    )  # each level passes the mean through
    within("gaussian preconditioner: a flat image, tolerance used", used, at_most=1.0)
    checkerboard = np.indices((64, 64)).sum(axis=0)[..., None] % 2 * np.ones(3, np.float32) - 0.5
    halved = ops.convert_to_numpy(PRECONDITIONERS["gaussian"](ops.convert_to_tensor(checkerboard), 2))[24:40, 24:40]
    within("gaussian preconditioner: a checkerboard halved, relative", relative_difference(np.abs(halved).max(), 0.25),
           at_most=0.05)  # fmt: skip


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
        used = tolerance_used(normalised[name], value, rtol=1e-3, atol=1e-4 * float(np.abs(value).max()))
        within(f"{name}: normalised features against the rescaled network's, tolerance used", used, at_most=1.0)
    plain_features = FeatureExtractor(layers, weights)(image)
    for name in layers:
        used = tolerance_used(normalised[name] * scales[name], plain_features[name], rtol=1e-4, atol=1e-3)
        within(f"{name}: normalised features times the scales against the plain ones, tolerance used", used,
               at_most=1.0)  # fmt: skip


@pytest.mark.e2e
def test_balanced_layers_count_equally_for_the_photo(weights):
    photo, painting = load_image(CONTENT, 64), load_image(STYLE, 64)
    mean = Options(size=64, weights=weights, normalization="mean")  # the spec's losses, where one layer dominates
    plain = Objective(photo, painting, mean)
    balanced = Objective(photo, painting, dataclasses.replace(mean, balance_style_layers=True))
    terms = list(balanced.style_layer_losses(photo).values())
    assert len(terms) == len(STYLE_LAYERS)
    within("balanced layers: each term against the first, tolerance used",
           tolerance_used(terms, np.full(len(terms), terms[0]), rtol=1e-4), at_most=1.0)  # fmt: skip
    total = relative_difference(sum(terms), sum(plain.style_layer_losses(photo).values()))
    within("balanced layers: their sum against the plain one's, relative", total, at_most=1e-4)
    largest = max(plain.style_layer_losses(photo).values()) / sum(terms)
    within("plain layers: the largest term's share", largest, above=0.5)  # unbalanced: one layer dominates
