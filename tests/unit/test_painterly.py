"""The painting ladder's sizes, the blur and the detail-keeping enlargement between its sizes, and
the straight lines a chain of bicubic enlargements leaves."""

import numpy as np
import pytest

from nst import Options
from nst.media import measures, pattern_measures
from nst.media.images import load_image
from nst.media.resizing import enlarged_with_detail, gaussian_blur, resize_pixels
from nst.options import PRINT_STEP_RATIO
from nst.run import ladder
from nst.run.ladder import PAINTING_STEP_RATIO
from tests.helpers import CONTENT, rng, within


@pytest.mark.parametrize("size", [192, 256, 512, 700, 1024, 2048, 4096])
def test_the_painting_ladder_starts_small_and_its_sizes_grow_by_at_most_their_ratio(size):
    """Up to the viewing size at most twice (its enlargements keep no lattice), a print's larger
    sizes at most 1.8 times, and a print continues from the viewing size as the print ladder does."""
    options = Options(size=size, ladder="painting")
    sizes = ladder.scale_sizes(options)
    assert sizes[0] == options.scale_start and sizes[-1] == size
    for earlier, later in zip(sizes, sizes[1:], strict=False):
        assert 1 < later / earlier <= (PAINTING_STEP_RATIO if later <= 2 * 512 else PRINT_STEP_RATIO) + 0.01
    assert len(ladder.steps_per_size(options)) == len(sizes)
    if size > 1024:
        assert 512 in sizes and sizes[sizes.index(512) :] == ladder.scale_sizes(Options(size=size, ladder="print"))


def test_pictures_made_before_the_ladder_existed_reproduce_with_one_size():
    old = Options.from_dict({"size": 512, "scales": None, "steps": 100})  # params of nst 0.2 lack "ladder"
    assert ladder.scale_sizes(old) == [512] and old.enlarge == "bicubic"


def test_the_gaussian_blur_is_separable_mirrored_and_keeps_the_mean_of_a_flat_image():
    rng = np.random.default_rng(0)
    image = rng.random((23, 31, 3)).astype(np.float32)
    blurred = gaussian_blur(image, 1.0)
    assert (
        blurred.shape == image.shape and np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(image, axis=1)).mean()
    )
    assert gaussian_blur(np.full((9, 7, 3), 0.25, np.float32), 1.5) == pytest.approx(0.25, abs=1e-6)
    impulse = np.zeros((21, 21, 1), np.float32)
    impulse[10, 10] = 1.0
    spread = gaussian_blur(impulse, 2.0)[..., 0]
    assert spread.sum() == pytest.approx(1.0, abs=1e-5) and spread == pytest.approx(spread.T, abs=1e-7)


def test_the_detail_enlargement_leaves_no_lattice_and_keeps_the_photos_fine_detail():
    """A textured 256 px picture enlarged to 512 px: bicubic leaves a lattice at period 2, the
    detail enlargement none, and it carries the photo's edges where bicubic is soft."""
    photo = load_image(CONTENT, 512)
    small = np.clip(resize_pixels(photo, (photo.shape[0] // 2, 256)) + rng(0).normal(0, 0.05, (170, 256, 3)), 0, 1)
    small = small.astype(np.float32)
    bicubic = resize_pixels(small, photo.shape)
    detail = enlarged_with_detail(small, photo)
    ratio = pattern_measures.lattice(bicubic, photo) / pattern_measures.lattice(detail, photo)
    within("enlarged twice: bicubic's lattice over the detail enlargement's", ratio, above=3)
    within("enlarged twice with detail: lattice", pattern_measures.lattice(detail, photo), below=measures.MAX_LATTICE)
    fine = photo - gaussian_blur(photo, 1.0)
    correlation = np.corrcoef((detail - gaussian_blur(detail, 1.0)).ravel(), fine.ravel())[0, 1]
    within("enlarged twice with detail: its fine detail's correlation with the photo's", correlation, above=0.9)


def _ladder_of_enlargements(enlarge) -> np.ndarray:
    """Noise at the first of a 5-size ladder (128 to 1024 px, steps of 1.68x, as a print's 512 to
    4096 px), each larger size the smaller enlarged by ``enlarge`` plus a little fresh noise: sizes
    whose few steps change the picture little, as nst 0.2's plan gave a print's largest."""
    draw = rng(0)
    picture = None
    for side in (128, 215, 362, 609, 1024):
        noise = (0.5 + 0.1 * draw.standard_normal((round(0.625 * side), side, 3))).astype(np.float32)
        picture = noise if picture is None else np.clip(enlarge(picture, noise) + 0.05 * (noise - 0.5), 0, 1)
    return picture.astype(np.float32)


def test_bicubic_enlargements_chained_leave_straight_lines_and_the_detail_enlargement_none():
    """The straight rows and columns of nst 0.2's prints (docs/print.md): where the successive
    bicubic enlargements' interpolation phases meet, a row or column stands out, at the same
    place in both axes and whatever the picture (noise here: 1.85 times its neighbours). The
    detail enlargement's blur takes them out with the lattices."""
    bicubic = _ladder_of_enlargements(lambda picture, noise: resize_pixels(picture, noise.shape))
    detail = _ladder_of_enlargements(enlarged_with_detail)
    within(
        "a chain of bicubic enlargements: its most prominent line", pattern_measures.line_prominence(bicubic), above=1.5
    )
    within(
        "a chain of detail enlargements: its most prominent line", pattern_measures.line_prominence(detail), below=1.1
    )
