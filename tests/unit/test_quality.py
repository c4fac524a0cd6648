"""The grid and noise measures, and the methods older pictures and the spec preset reproduce."""

import numpy as np
import pytest

from nst import Options
from nst.media import bands, measures
from nst.media.images import load_image
from tests.helpers import CONTENT, STYLE, rng, within

PHOTO = load_image(CONTENT, 128)


def _block_means(image: np.ndarray, block: int) -> np.ndarray:
    height, width = (side - side % block for side in image.shape[:2])
    tiles = image[:height, :width].reshape(height // block, block, width // block, block, 3).mean(axis=(1, 3))
    return np.repeat(np.repeat(tiles, block, axis=0), block, axis=1)


def test_block_means_of_a_photo_score_a_grid_and_the_photo_none():
    photo = PHOTO[:80, :120]
    within("4x4 block means of the photo: grid", measures.grid(_block_means(photo, 4), photo), above=1.3)
    assert measures.grid(photo, photo) == pytest.approx(1.0)


def test_a_grid_already_in_the_photo_does_not_count():
    photo = _block_means(PHOTO[:80, :120], 8)  # as if the photo were made of 8x8 blocks (a JPEG at its worst)
    within("a photo of 8x8 blocks: its boundary ratio", measures.boundary_ratio(photo, 8), above=2)
    assert measures.grid(photo, photo) == pytest.approx(1.0)


def test_measures_of_an_image_taller_than_a_band_are_those_of_the_whole_array():
    """They are computed by bands of rows (a print's float64 copy would be 250 MB): the bands'
    edges and the last, short band count every boundary and interior pixel once."""
    rng = np.random.default_rng(1)
    image = rng.random((2 * bands.BAND_ROWS + 3, 40, 3))
    image[::8] *= 0.5  # a grid of rows, one of them on a band's edge
    for block in (2, 8, 16):
        rows, columns = np.abs(np.diff(image, axis=0)), np.abs(np.diff(image, axis=1))
        on_rows, on_columns = np.arange(1, len(image)) % block == 0, np.arange(1, 40) % block == 0
        on = np.concatenate([rows[on_rows].ravel(), columns[:, on_columns].ravel()]).mean()
        off = np.concatenate([rows[~on_rows].ravel(), columns[:, ~on_columns].ravel()]).mean()
        assert measures.boundary_ratio(image, block) == pytest.approx(on / off, rel=1e-12)
    laplacian = image[:-2, 1:-1] + image[2:, 1:-1] + image[1:-1, :-2] + image[1:-1, 2:] - 4 * image[1:-1, 1:-1]
    assert measures.mean_abs_laplacian(image) == pytest.approx(np.abs(laplacian).mean(), rel=1e-12)


def test_noise_rises_with_the_strength_of_white_noise():
    draw = rng(0)
    painting = load_image(STYLE, 128)
    scores = [
        measures.noise(np.clip(PHOTO + draw.normal(0, strength, PHOTO.shape), 0, 1), PHOTO, [painting])
        for strength in (0.0, 0.02, 0.05, 0.1)
    ]
    assert scores == sorted(scores)
    within("noise of 0.1 white noise over the photo's", scores[-1] / scores[0], above=2)
    within("the photo's own noise", scores[0], at_most=1.0)  # no busier than the larger of itself and the painting


def test_an_older_pictures_parameters_reproduce_the_method_it_was_made_with():
    # A PNG written before these settings existed ran the plain VGG19 and the block pyramid.
    older = Options.for_reproduction({"steps": 5, "content_weight": 1e4, "style_weight": 1e-2})
    assert (older.vgg_normalization, older.preconditioner) == ("none", "blocks")
    newer = Options.for_reproduction(Options(steps=5).as_dict())
    assert newer == Options(steps=5)


def test_the_spec_preset_keeps_the_plain_network():
    spec = Options.preset("spec")
    assert (spec.vgg_normalization, spec.content_weight, spec.style_weight) == ("none", 1e4, 1e-2)
