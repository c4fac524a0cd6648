"""Tileable textures: the network, the total variation, the preconditioner and the tiles see the
picture wrap around, so that placed 2x2 it shows no seam."""

import json

import numpy as np
import pytest
from keras import ops

from nst import Options
from nst.core import backend, losses
from nst.core.features import FeatureExtractor
from nst.core.objective import Objective
from nst.core.preconditioners import PRECONDITIONERS
from nst.core.tiles import TiledObjective
from nst.media import measures, textures
from nst.media.images import load_image, resize_pixels
from tests.helpers import CONTENT, STYLE, losses_and_gradient, relative_error
from tests.helpers import run_nst as nst

LAYERS = ("block1_conv1", "block3_conv1", "block5_conv1", "block5_conv2")


@pytest.mark.e2e
@pytest.mark.core
def test_the_wrapped_network_sees_the_picture_repeated_without_end_exactly(weights):
    """Its features are those of the middle copy of the picture repeated 5x5 (far enough from the
    repeat's edges for block5's field of view), and move with the picture when it is rolled."""
    picture = load_image(CONTENT, 128)[:80]  # 80x128: multiples of block5's 16 px
    wrapped = FeatureExtractor(LAYERS, weights, wrap=True)(ops.convert_to_tensor(picture[np.newaxis]))
    repeated = FeatureExtractor(LAYERS, weights)(ops.convert_to_tensor(np.tile(picture, (5, 5, 1))[np.newaxis]))
    for name in LAYERS:
        own = backend.to_numpy(wrapped[name])[0]
        height, width = own.shape[:2]
        middle = backend.to_numpy(repeated[name])[0][2 * height : 3 * height, 2 * width : 3 * width]
        np.testing.assert_allclose(own, middle, atol=1e-4 * np.abs(middle).max(), err_msg=name)
    plain = backend.to_numpy(FeatureExtractor(LAYERS, weights)(ops.convert_to_tensor(picture[np.newaxis]))[LAYERS[-1]])
    assert np.abs(plain[0, :, 0] - middle[:, 0]).max() > 0.1 * np.abs(middle).max()  # zeros at the edge differ


@pytest.mark.unit
@pytest.mark.core
def test_wrapped_total_variation_counts_the_last_row_and_column_against_the_first():
    image = np.random.default_rng(0).random((1, 6, 7, 3)).astype(np.float32)
    expected = np.abs(np.roll(image, -1, axis=1) - image).sum() + np.abs(np.roll(image, -1, axis=2) - image).sum()
    assert float(losses.total_variation_loss(image, "sum", wrap=True)) == pytest.approx(expected, rel=1e-5)
    assert float(losses.total_variation_loss(image, "mean", wrap=True)) == pytest.approx(expected / 42, rel=1e-5)


@pytest.mark.unit
@pytest.mark.core
@pytest.mark.parametrize("name", ["gaussian", "blocks", "none"])
def test_the_wrapped_preconditioner_stays_symmetric_and_moves_with_the_picture(name):
    rng = np.random.default_rng(1)
    x, y = (rng.normal(size=(48, 64, 3)).astype(np.float32) for _ in range(2))

    def precondition(vector):
        return backend.to_numpy(PRECONDITIONERS[name](ops.convert_to_tensor(vector), 3, True))

    assert np.sum(precondition(x) * y) == pytest.approx(np.sum(x * precondition(y)), rel=1e-4)  # symmetric
    if name == "gaussian":  # a shift by the coarsest level's step commutes with it: no edge anywhere
        np.testing.assert_allclose(precondition(np.roll(x, (8, 16), (0, 1))), np.roll(precondition(x), (8, 16), (0, 1)),
                                   atol=1e-4)  # fmt: skip


@pytest.mark.unit
def test_a_photo_made_to_wrap_around_has_no_seam_and_keeps_its_middle():
    photo = load_image(CONTENT, 256)[:160]
    assert measures.seam(photo) > 3 * measures.MAX_SEAM  # a photo's edges never met
    wrapped = textures.wrapped(photo)
    assert measures.seam(wrapped) <= measures.MAX_SEAM
    np.testing.assert_allclose(wrapped[78:82, 126:130], photo[78:82, 126:130], atol=0.01)  # the middle is the photo


@pytest.mark.unit
def test_the_seam_measure_sees_a_step_at_the_wrap_around_and_not_a_periodic_texture():
    rng = np.random.default_rng(2)
    texture = rng.random((64, 96, 3))
    assert measures.seam(texture) == pytest.approx(1.0, abs=0.1)  # every boundary alike, the wrap-around too
    stepped = texture * 0.5 + np.linspace(0.0, 0.5, 96)[np.newaxis, :, np.newaxis]  # a ramp: a step where it wraps
    assert measures.seam(stepped) > 1.5


def _scene(size):
    """A photo made to wrap around (sides of multiples of 16), a changed version of it to score, a painting."""
    photo = load_image(CONTENT, size)
    photo = textures.wrapped(photo[: len(photo) // 16 * 16])
    image = np.clip(photo + np.random.default_rng(3).normal(0.0, 0.1, photo.shape), 0.0, 1.0).astype(np.float32)
    return photo, image, load_image(STYLE, size)


@pytest.mark.e2e
@pytest.mark.parametrize(("size", "halo", "tiles", "bound"), [(128, 128, 4, 1e-5), (192, 48, 6, 0.1)])
def test_tiles_of_a_tileable_picture_wrap_around_and_give_the_whole_pictures_losses(weights, size, halo, tiles, bound):
    """With a halo wider than block5's field of view the tiles (64 px, their crops taken around
    the picture's edges) give the whole picture's losses and gradient; with the default one, its
    gradient within 10% at 192x128 in 64 px tiles (measured 8.2%, against 3.4% for a picture that
    does not wrap: here every crop's edge is inside the picture, none at an edge of it)."""
    photo, image, painting = _scene(size)
    options = Options(size=size, weights=weights, tv_weight=1.0, jit_compile=False, tileable=True)
    whole = losses_and_gradient(Objective(photo, painting, options), image)
    tiled_objective = TiledObjective(photo, painting, options, tile=64, halo=halo)
    assert len(tiled_objective.tiling) == tiles and tiled_objective.tiling.tiles[0].corner == (-halo, -halo)
    tiled = losses_and_gradient(tiled_objective, image)
    assert relative_error(tiled[1], whole[1]) < bound
    if halo >= size:  # the crops see the whole picture
        for name, value in whole[0].items():
            assert tiled[0][name] == pytest.approx(value, rel=1e-5), name
    else:
        assert tiled[0]["total"] == pytest.approx(whole[0]["total"], rel=0.01)


@pytest.mark.unit
def test_a_tileable_picture_is_enlarged_across_its_wrap_around():
    """A ladder's next size starts from the picture enlarged as the texture it is: the middle of
    its 3x3 repeat enlarged, exactly."""
    texture = np.random.default_rng(4).random((48, 64, 3)).astype(np.float32)
    enlarged = resize_pixels(texture, (80, 128), wrap=True)
    np.testing.assert_allclose(enlarged, resize_pixels(np.tile(texture, (3, 3, 1)), (240, 384))[80:160, 128:256],
                               atol=1e-6)  # fmt: skip


def _run(tmp_path, weights, name, *arguments):
    output, report = tmp_path / f"{name}.png", tmp_path / f"{name}.json"
    result = nst(CONTENT, STYLE, "-o", output, "--report", report, "--size", 128, "--weights", weights,
                 "--no-jit-compile", *arguments)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return load_image(output), json.loads(report.read_text())


@pytest.mark.slow
def test_a_tileable_picture_placed_2x2_shows_no_seam_and_one_without_does(tmp_path, weights):
    picture, report = _run(tmp_path, weights, "tileable", "--tileable", "--steps", 50)
    assert picture.shape == (80, 128, 3)  # 128x85 rounded to multiples of 16
    repeat = np.tile(picture, (2, 2, 1))
    assert measures.seam(repeat) == pytest.approx(measures.seam(picture), abs=0.02)  # its copies meet as it wraps
    assert measures.seam(picture) <= measures.MAX_SEAM  # measured 1.09
    assert report["final"]["seam"] == pytest.approx(measures.seam(picture), abs=0.02)
    plain, _ = _run(tmp_path, weights, "plain", "--steps", 50)
    assert measures.seam(plain) > 2 * measures.MAX_SEAM  # measured 4.3


@pytest.mark.slow
def test_a_tileable_picture_in_tiles_shows_no_seam(tmp_path, weights):
    """A print-size texture, small: in 64 px tiles whose halos wrap around the picture. 50 steps,
    as the whole picture's test: after 30 the seam is still closing, in tiles or not (1.10 to 1.16
    at 30 steps, 1.09 at 50)."""
    picture, report = _run(tmp_path, weights, "tiles", "--tileable", "--steps", 50, "--tile", 64)
    assert report["sizes"][-1]["tiles"] == 4 and picture.shape == (80, 128, 3)
    assert measures.seam(picture) <= measures.MAX_SEAM
