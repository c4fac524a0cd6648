"""Tileable textures without the network: the photo made to wrap around, the seam measure, and a
picture enlarged across its wrap-around (the runs: tests/test_tileable.py)."""

import numpy as np

from nst.media import measures, pattern_measures, textures
from nst.media.images import load_image
from nst.media.resizing import resize_pixels
from tests.helpers import CONTENT, rng, within


def test_a_photo_made_to_wrap_around_has_no_seam_and_keeps_its_middle():
    photo = load_image(CONTENT, 256)[:160]
    within("a photo's seam", pattern_measures.seam(photo), above=3 * measures.MAX_SEAM)  # its edges never met
    wrapped = textures.wrapped(photo)
    within("the photo made to wrap around: its seam", pattern_measures.seam(wrapped), at_most=measures.MAX_SEAM)
    np.testing.assert_allclose(wrapped[78:82, 126:130], photo[78:82, 126:130], atol=0.01)  # the middle is the photo


def test_the_seam_measure_sees_a_step_at_the_wrap_around_and_not_a_periodic_texture():
    texture = rng(2).random((64, 96, 3))
    # every boundary alike
    within("white noise: its seam, off 1", abs(pattern_measures.seam(texture) - 1.0), at_most=0.1)
    stepped = texture * 0.5 + np.linspace(0.0, 0.5, 96)[np.newaxis, :, np.newaxis]  # a ramp: a step where it wraps
    within("a ramp: its seam", pattern_measures.seam(stepped), above=1.5)


def test_a_tileable_picture_is_enlarged_across_its_wrap_around():
    """A ladder's next size starts from the picture enlarged as the texture it is: the middle of
    its 3x3 repeat enlarged, exactly."""
    texture = np.random.default_rng(4).random((48, 64, 3)).astype(np.float32)
    enlarged = resize_pixels(texture, (80, 128), wrap=True)
    np.testing.assert_allclose(enlarged, resize_pixels(np.tile(texture, (3, 3, 1)), (240, 384))[80:160, 128:256],
                               atol=1e-6)  # fmt: skip
