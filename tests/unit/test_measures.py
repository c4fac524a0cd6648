"""The picture measures added for sparse speckle, lattices of any period and stray lines."""

import numpy as np
import pytest
from PIL import Image

from nst.media import measures, pattern_measures
from nst.media.images import load_image
from tests.helpers import CONTENT, STYLE, relative_difference, rng, within

PHOTO = load_image(CONTENT, 256)


def _enlarged(pixels: np.ndarray, factor: float, resample: Image.Resampling) -> np.ndarray:
    height, width = pixels.shape[:2]
    size = (round(width * factor), round(height * factor))
    channels = [np.asarray(Image.fromarray(pixels[..., channel]).resize(size, resample)) for channel in range(3)]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def test_salt_and_pepper_pixels_are_outliers_and_a_smooth_image_has_none():
    draw = rng(0)
    salted = PHOTO.copy()
    hit = draw.random(PHOTO.shape[:2]) < 0.01
    salted[hit] = draw.integers(0, 2, (int(hit.sum()), 1)).astype(np.float32)
    photo_outliers = measures.outlier_fraction(PHOTO)  # 1% salt and pepper: about 9 per mille
    within("1% salt and pepper: outliers", measures.outlier_fraction(salted), at_least=max(5 * photo_outliers, 5.0))
    ramp = np.broadcast_to(np.linspace(0, 1, 200, dtype=np.float32)[None, :, None], (120, 200, 3))
    assert measures.outlier_fraction(ramp) == 0.0


def test_the_outlier_bound_is_3_per_mille_or_the_paintings_own():
    assert measures.outlier_bound({"outliers_painting": 1.0}) == measures.MAX_OUTLIERS
    assert measures.outlier_bound({"outliers_painting": 5.0}) == 5.0
    clean = {"grid": 1.0, "noise": 1.0, "outliers": 2.9, "outliers_painting": 0.5}
    assert measures.is_clean(clean)
    assert not measures.is_clean({**clean, "outliers": 3.5})
    assert measures.is_clean({**clean, "outliers": 3.5, "outliers_painting": 4.0})


def test_an_enlargements_lattice_is_caught_at_any_period_and_the_photo_scores_one():
    """A picture enlarged 4096/861 = 4.76 times (a print's ladder) carries a lattice of that
    period, which the block grid (periods 2, 4, 8, 16, 32) does not see."""
    small = load_image(CONTENT, 128)
    textured = np.clip(small + rng(0).normal(0, 0.05, small.shape), 0, 1).astype(np.float32)
    factor = 4096 / 861
    picture = _enlarged(textured, factor, Image.Resampling.BICUBIC)
    photo = _enlarged(small, factor, Image.Resampling.LANCZOS)
    within("enlarged 4.76 times: lattice", pattern_measures.lattice(picture, photo), above=5)
    within("enlarged 4.76 times: grid", measures.grid(picture, photo), below=1.05)  # what the new measure is for
    within("the photo against itself: lattice", pattern_measures.lattice(photo, photo), at_most=1.0)
    frequencies, prominence = pattern_measures.lattice_spectrum(picture)
    period = relative_difference(1 / frequencies[np.argmax(prominence)], factor)
    within("enlarged 4.76 times: the lattice's period against the factor, relative", period, at_most=0.05)


def test_a_clean_photo_has_no_lattice_against_another_version_of_itself():
    """The photo with mild noise (no periodic pattern) scores about 1 against the photo."""
    photo = load_image(CONTENT, 512)
    noisy = np.clip(photo + rng(1).normal(0, 0.01, photo.shape), 0, 1).astype(np.float32)
    within("the photo with mild noise: lattice", pattern_measures.lattice(noisy, photo), below=measures.MAX_LATTICE)


def test_on_a_small_picture_chance_is_no_lattice_and_an_enlargements_lattice_still_is():
    """At 200x133 px the spectrum averages a dozen segments, and in pure noise some frequency
    stands out twice over its neighbours (1.25 to 1.71 over the photo's, before the chance level
    was counted): no pattern, and under the bound. An enlargement's lattice at that size is
    still caught, many times over."""
    photo = load_image(CONTENT, 200)
    chance = pattern_measures.chance_prominence(*photo.shape[:2])
    within("chance prominence at 200x133 px", chance, above=1.8)
    within("chance prominence at 200x133 px", chance, below=2.3)
    within(
        "chance prominence at 4096x2560 px", pattern_measures.chance_prominence(2560, 4096), below=1.05
    )  # thousands averaged
    for seed in range(5):
        noise = rng(seed).random(photo.shape).astype(np.float32)
        within("white noise at 200 px: lattice", pattern_measures.lattice(noise, photo), below=measures.MAX_LATTICE)
    draw = rng(0)
    for side in (64, 100, 128):  # enlarged 3.1, 2 and 1.56 times
        small = load_image(CONTENT, side)
        textured = np.clip(small + draw.normal(0, 0.05, small.shape), 0, 1).astype(np.float32)
        picture = _enlarged(textured, 200 / side, Image.Resampling.BICUBIC)
        lattice = pattern_measures.lattice(picture, _enlarged(small, 200 / side, Image.Resampling.LANCZOS))
        within(f"{side} px enlarged to 200 px: lattice", lattice, above=5)


def test_one_bright_row_is_a_line_and_a_clean_photo_has_none():
    lined = PHOTO.copy()
    lined[100] = np.clip(lined[100] + 0.3, 0, 1)
    within("one bright row: lines", pattern_measures.lines(lined, PHOTO), above=3)
    columned = PHOTO.copy()
    columned[:, 77] = np.clip(columned[:, 77] - 0.3, 0, 1)
    within("one dark column: lines", pattern_measures.lines(columned, PHOTO), above=3)
    painting = load_image(STYLE, 256)
    assert pattern_measures.lines(PHOTO, PHOTO) == pytest.approx(1.0)
    # edges are no lines
    within("a painting's own most prominent line", pattern_measures.line_prominence(painting), below=3)


def test_the_new_measures_are_in_picture_measures_and_in_bands_as_whole():
    rng = np.random.default_rng(2)
    tall = rng.random((2 * 256 + 5, 40, 3)).astype(np.float32)
    rows, columns = pattern_measures.difference_profiles(tall)
    assert rows == pytest.approx(np.abs(np.diff(tall.astype(np.float64), axis=0)).mean(axis=(1, 2)), rel=1e-6)
    assert columns == pytest.approx(np.abs(np.diff(tall.astype(np.float64), axis=1)).mean(axis=(0, 2)), rel=1e-6)
    values = measures.picture_measures(PHOTO, PHOTO, [load_image(STYLE, 256)])
    assert {"grid", "noise", "outliers", "outliers_painting", "lattice", "lines"} <= set(values)
    assert values["lattice"] <= 1.0 and values["lines"] == pytest.approx(1.0)
