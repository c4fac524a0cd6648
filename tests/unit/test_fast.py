"""The fast network (the extra nst[fast], which the tests install) without TensorFlow: the photo's
colours and a mask kept, and --fast refusing what needs steps."""

import numpy as np
from PIL import Image

from nst.media import colors
from nst.media.images import load_image
from nst.run.fast import stylize_fast
from tests.helpers import CONTENT, STYLE, nst_here, within


def test_fast_has_no_steps_to_save_or_animate(tmp_path):
    result = nst_here(CONTENT, STYLE, "--fast", "-o", tmp_path / "out.png", "--animation", tmp_path / "a.gif")
    assert result.returncode == 2
    assert result.stderr == (
        "nst: error: --fast makes its picture in one pass: no steps to save, animate, checkpoint or resume\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_fast_picture_keeps_the_photos_colours_and_follows_the_mask(tmp_path):
    cat = load_image(CONTENT, 96)
    kept = stylize_fast(CONTENT, STYLE, size=96, preserve_colors="luminance", measure=False).pixels
    painted = stylize_fast(CONTENT, STYLE, size=96, measure=False).pixels
    chroma = lambda pixels: colors.rgb_to_yiq(pixels)[..., 1:]  # noqa: E731
    within("fast, the photo's colours kept: chroma difference", np.abs(chroma(kept) - chroma(cat)).mean(), below=0.01)
    within("fast, painted: chroma difference", np.abs(chroma(painted) - chroma(cat)).mean(), above=0.01)
    mask = tmp_path / "mask.png"
    left_only = np.zeros((64, 96), np.uint8)
    left_only[:, :48] = 255
    Image.fromarray(left_only).save(mask)
    masked = stylize_fast(CONTENT, STYLE, size=96, mask=str(mask), measure=False).pixels
    kept = np.abs(masked[:, 52:] - cat[:, 52:]).max()  # the photo where the mask is black
    within("fast, masked: largest change where the mask is black", kept, below=1e-6)
    within("fast, masked: largest difference from the painted picture where it is white",
           np.abs(masked[:, :44] - painted[:, :44]).max(), below=1e-6)  # fmt: skip
