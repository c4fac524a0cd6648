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
from nst.media import pattern_measures, textures
from nst.media.images import load_image
from tests.helpers import (
    CONTENT,
    STYLE,
    losses_and_gradient,
    nst_here,
    relative_difference,
    relative_error,
    rng,
    tolerance_used,
    within,
)

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
        used = tolerance_used(own, middle, atol=1e-4 * np.abs(middle).max())
        within(f"{name} of the wrapped network against the repeated picture's, tolerance used", used, at_most=1.0)
    plain = backend.to_numpy(FeatureExtractor(LAYERS, weights)(ops.convert_to_tensor(picture[np.newaxis]))[LAYERS[-1]])
    edge = np.abs(plain[0, :, 0] - middle[:, 0]).max() / np.abs(middle).max()  # zeros at the edge differ
    within("the plain network at the edge against the repeated picture's, over the largest feature", edge, above=0.1)


@pytest.mark.e2e
@pytest.mark.core
def test_wrapped_total_variation_counts_the_last_row_and_column_against_the_first():
    image = rng(0).random((1, 6, 7, 3)).astype(np.float32)
    expected = np.abs(np.roll(image, -1, axis=1) - image).sum() + np.abs(np.roll(image, -1, axis=2) - image).sum()
    for form, reference in (("sum", expected), ("mean", expected / 42)):
        difference = relative_difference(losses.total_variation_loss(image, form, wrap=True), reference)
        within(f"total variation ({form}) around the wrap-around, relative", difference, at_most=1e-5)


@pytest.mark.e2e
@pytest.mark.core
@pytest.mark.parametrize("name", ["gaussian", "blocks", "none"])
def test_the_wrapped_preconditioner_stays_symmetric_and_moves_with_the_picture(name):
    draw = rng(1)
    x, y = (draw.normal(size=(48, 64, 3)).astype(np.float32) for _ in range(2))

    def precondition(vector):
        return backend.to_numpy(PRECONDITIONERS[name](ops.convert_to_tensor(vector), 3, True))

    symmetric = relative_difference(np.sum(precondition(x) * y), np.sum(x * precondition(y)))
    within(f"{name} preconditioner wrapped: <Px, y> against <x, Py>, relative", symmetric, at_most=1e-4)
    if name == "gaussian":  # a shift by the coarsest level's step commutes with it: no edge anywhere
        moved = precondition(np.roll(x, (8, 16), (0, 1))), np.roll(precondition(x), (8, 16), (0, 1))
        used = tolerance_used(*moved, atol=1e-4)
        within("gaussian preconditioner wrapped: moved with the picture, tolerance used", used, at_most=1.0)


def _scene(size):
    """A photo made to wrap around (sides of multiples of 16), a changed version of it to score, a painting."""
    photo = load_image(CONTENT, size)
    photo = textures.wrapped(photo[: len(photo) // 16 * 16])
    image = np.clip(photo + rng(3).normal(0.0, 0.1, photo.shape), 0.0, 1.0).astype(np.float32)
    return photo, image, load_image(STYLE, size)


@pytest.mark.e2e
@pytest.mark.parametrize(("size", "tile", "halo", "tiles", "bound"), [(96, 48, 96, 4, 1e-5), (192, 64, 48, 6, 0.1)])
def test_tiles_of_a_tileable_picture_wrap_around_and_give_the_whole_pictures_losses(
    weights, size, tile, halo, tiles, bound
):
    """With a halo wider than block5's field of view the tiles (their crops taken around the
    picture's edges: 2x2 tiles of 48 px at 96x64) give the whole picture's losses and gradient;
    with the default one, its gradient within 10% at 192x128 in 64 px tiles (measured 8.2%, against
    3.4% for a picture that does not wrap: here every crop's edge is inside the picture, none at an
    edge of it)."""
    photo, image, painting = _scene(size)
    options = Options(size=size, weights=weights, tv_weight=1.0, jit_compile=False, tileable=True)
    whole = losses_and_gradient(Objective(photo, painting, options), image)
    tiled_objective = TiledObjective(photo, painting, options, tile=tile, halo=halo)
    assert len(tiled_objective.tiling) == tiles and tiled_objective.tiling.tiles[0].corner == (-halo, -halo)
    tiled = losses_and_gradient(tiled_objective, image)
    within(f"tileable in tiles, a {halo} px halo: gradient against the whole picture's, relative L2",
           relative_error(tiled[1], whole[1]), below=bound)  # fmt: skip
    if halo >= size:  # the crops see the whole picture
        for name, value in whole[0].items():
            difference = relative_difference(tiled[0][name], value)
            within(f"tileable in tiles, a {halo} px halo: {name} loss, relative", difference, at_most=1e-5)
    else:
        difference = relative_difference(tiled[0]["total"], whole[0]["total"])
        within(f"tileable in tiles, a {halo} px halo: total loss, relative", difference, at_most=0.01)


def _run(tmp_path, weights, name, *arguments):
    output, report = tmp_path / f"{name}.png", tmp_path / f"{name}.json"
    result = nst_here(CONTENT, STYLE, "-o", output, "--report", report, "--size", 128, "--weights", weights,
                      "--no-jit-compile", *arguments)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return load_image(output), json.loads(report.read_text())


def wrap_and_own_lines(picture: np.ndarray) -> list[tuple[float, float]]:
    """For the rows and then the columns: how much the wrap-around stands out from the boundaries
    beside it, and how much the picture's own most prominent boundary does, both as
    :func:`pattern_measures.line_ratios` rates a line (over the median of the 9 centred on it). A
    seam is a line the picture has nowhere else; at 80x128 px one line of a seamless picture scores
    up to 1.6 by chance, so the wrap-around is measured against the picture's own lines, not a
    fixed bound."""
    lines = []
    for axis in (0, 1):
        middle = picture.shape[axis] // 2  # rolled there, the wrap-around is boundary middle - 1
        ratios = pattern_measures.line_ratios(
            pattern_measures.difference_profiles(np.roll(picture, middle, axis=axis))[axis]
        )
        at = middle - 1 - pattern_measures.LINE_REACH
        lines.append((float(ratios[at]), float(np.max(np.delete(ratios, at)))))
    return lines


@pytest.mark.slow
def test_a_tileable_picture_placed_2x2_shows_no_seam_and_one_without_does(tmp_path, weights):
    """Its wrap-around stands out less than its own most prominent row and column (measured 1.25 to
    1.28 against 1.50 to 1.62 for the rows), and its seam stays under what one line of a seamless
    picture of this size scores by chance; a photo's edges, painted without --tileable, stand out
    twice and five times as much as its most prominent row and column, and its seam is 4.3."""
    picture, report = _run(tmp_path, weights, "tileable", "--tileable", "--steps", 50)
    assert picture.shape == (80, 128, 3)  # 128x85 rounded to multiples of 16
    repeat = np.tile(picture, (2, 2, 1))
    # its copies meet as it wraps
    assert pattern_measures.seam(repeat) == pytest.approx(pattern_measures.seam(picture), abs=0.02)
    assert report["final"]["seam"] == pytest.approx(pattern_measures.seam(picture), abs=0.02)
    for axis, (wrap, own) in zip(("rows", "columns"), wrap_and_own_lines(picture), strict=True):
        within(f"tileable, the wrap-around over the most prominent of the {axis}", wrap / own, below=1.0)
    within("tileable, its seam", pattern_measures.seam(picture), at_most=1.2)  # measured 1.06 to 1.12
    plain, _ = _run(tmp_path, weights, "plain", "--steps", 50)
    within("the seam without --tileable over the tileable one's",
           pattern_measures.seam(plain) / pattern_measures.seam(picture), above=2.0)  # fmt: skip
    for axis, (wrap, own) in zip(("rows", "columns"), wrap_and_own_lines(plain), strict=True):
        within(f"without --tileable, the wrap-around over the most prominent of the {axis}", wrap / own, above=1.0)


@pytest.mark.slow
def test_a_tileable_picture_in_tiles_shows_no_seam(tmp_path, weights):
    """A print-size texture, small: in 80 px tiles (one row of two) whose halos (16 px: crops of
    112 px) wrap around the picture, across its top and bottom and its left and right, 30 steps.
    Its wrap-around stands out less than its own most prominent row and column, as the whole
    picture's does."""
    picture, report = _run(tmp_path, weights, "tiles", "--tileable", "--steps", 30, "--tile", 80, "--halo", 16)
    assert report["sizes"][-1]["tiles"] == 2 and picture.shape == (80, 128, 3)
    for axis, (wrap, own) in zip(("rows", "columns"), wrap_and_own_lines(picture), strict=True):
        within(f"tileable in tiles, the wrap-around over the most prominent of the {axis}", wrap / own, below=1.0)
