"""Print files: a 16-bit TIFF with the sRGB profile, the resolution and the run's settings; the
resolution in every format that carries one; a 16-bit photo kept at 16 bits; --print sizes."""

import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from nst import stylize
from nst.media.saving import read_metadata, save_image
from nst.media.sixteen_bit import open_deep
from tests.helpers import CONTENT, STYLE, deep_gradient, nst_here, png_bits, within


@pytest.mark.e2e
def test_a_16_bit_photo_keeps_its_depth_through_the_run_into_tiff_and_png(tmp_path, weights):
    """No steps: the picture is the photo, so every one of its 65536 levels must come back."""
    deep = deep_gradient(32, 48)
    photo = save_image(deep / 65535, tmp_path / "photo.png", bits=16)
    result = stylize(photo, STYLE, size=48, steps=0, weights=weights, jit_compile=False)
    assert result.bits == 16
    with tifffile.TiffFile(result.save(tmp_path / "out.tif")) as tiff:
        np.testing.assert_array_equal(tiff.pages.first.asarray(), deep)
    again = result.save(tmp_path / "out.png")
    assert png_bits(again) == 16
    np.testing.assert_array_equal(open_deep(again), deep)
    eight = stylize(CONTENT, STYLE, size=48, steps=0, weights=weights, jit_compile=False)
    assert eight.bits == 8 and png_bits(eight.save(tmp_path / "eight.png")) == 8  # PNG follows the photo


@pytest.mark.e2e
def test_reproduce_runs_again_from_a_tiff(tmp_path, weights):
    first = tmp_path / "first.tif"
    made = nst_here(CONTENT, STYLE, "-o", first, "--print", "2x1.33in", "--dpi", 24, "--steps", 3, "--weights",
                    weights, "--no-jit-compile")  # fmt: skip
    assert made.returncode == 0, made.stderr
    params = read_metadata(first)
    assert (params["print"], params["dpi"], params["size"]) == ("2x1.33in", 24, 48)
    result = nst_here("reproduce", first)
    assert result.returncode == 0, result.stderr
    again = tmp_path / "first-reproduced.tif"
    assert json.dumps(read_metadata(again), sort_keys=True) == json.dumps(params, sort_keys=True)
    with Image.open(again) as image:
        assert image.info["dpi"] == (24, 24) and image.size == (48, 32)
    difference = np.abs(tifffile.imread(again).astype(float) - tifffile.imread(first).astype(float))
    within("reproduced from a TIFF: largest 16-bit difference", difference.max(), at_most=257)  # an 8-bit rounding step
