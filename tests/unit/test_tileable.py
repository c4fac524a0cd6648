"""Tileable textures without the network: the photo made to wrap around, the seam measure, and a
picture enlarged across its wrap-around (the runs: tests/test_tileable.py)."""

import numpy as np
import pytest

from nst.media import measures, textures
from nst.media.images import load_image, resize_pixels
from tests.helpers import CONTENT


def test_a_photo_made_to_wrap_around_has_no_seam_and_keeps_its_middle():
    photo = load_image(CONTENT, 256)[:160]
    assert measures.seam(photo) > 3 * measures.MAX_SEAM  # a photo's edges never met
    wrapped = textures.wrapped(photo)
    assert measures.seam(wrapped) <= measures.MAX_SEAM
    np.testing.assert_allclose(wrapped[78:82, 126:130], photo[78:82, 126:130], atol=0.01)  # the middle is the photo


def test_the_seam_measure_sees_a_step_at_the_wrap_around_and_not_a_periodic_texture():
    rng = np.random.default_rng(2)
    texture = rng.random((64, 96, 3))
    assert measures.seam(texture) == pytest.approx(1.0, abs=0.1)  # every boundary alike, the wrap-around too
    stepped = texture * 0.5 + np.linspace(0.0, 0.5, 96)[np.newaxis, :, np.newaxis]  # a ramp: a step where it wraps
    assert measures.seam(stepped) > 1.5


def test_a_tileable_picture_is_enlarged_across_its_wrap_around():
    """A ladder's next size starts from the picture enlarged as the texture it is: the middle of
    its 3x3 repeat enlarged, exactly."""
    texture = np.random.default_rng(4).random((48, 64, 3)).astype(np.float32)
    enlarged = resize_pixels(texture, (80, 128), wrap=True)
    np.testing.assert_allclose(enlarged, resize_pixels(np.tile(texture, (3, 3, 1)), (240, 384))[80:160, 128:256],
                               atol=1e-6)  # fmt: skip
