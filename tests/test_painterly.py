"""The painterly default's parts: losses as fractions of the photo's own, the painting ladder and
the detail-keeping enlargement between its sizes."""

import numpy as np
import pytest
from keras import ops

from nst import Options
from nst.core import backend
from nst.core.objective import Objective
from nst.core.optimizers import step_function
from nst.core.tiles import TiledObjective
from nst.media import measures
from nst.media.images import enlarged_with_detail, gaussian_blur, load_image, resize_pixels
from nst.options import PAINTING_STEP_RATIO, PRINT_STEP_RATIO
from tests.helpers import CONTENT, EXAMPLES, STYLE


@pytest.mark.e2e
def test_under_photo_normalisation_the_photo_scores_zero_content_and_the_mean_layer_weight_of_style(weights):
    photo, painting = load_image(CONTENT, 64), load_image(STYLE, 64)
    layer_weights = (1.0, 2.0, 1.0, 0.5, 0.5)
    options = Options(size=64, weights=weights, normalization="photo", style_layer_weights=layer_weights)
    objective = Objective(photo, painting, options)
    at_photo = objective.evaluate(photo)
    assert at_photo["content"] == pytest.approx(0.0, abs=1e-6)
    assert at_photo["style"] == pytest.approx(np.mean(layer_weights), rel=1e-4)
    shares = objective.style_layer_losses(photo)  # each layer's term w_l E_l / E_l(photo) = w_l
    assert list(shares.values()) == pytest.approx(list(layer_weights), rel=1e-4)


@pytest.mark.e2e
def test_under_photo_normalisation_the_content_loss_is_relative_to_the_photos_activations(weights):
    """Divided by the photo's mean squared activation: an image whose features are those of the
    photo halved scores a quarter, whatever the photo's own scale."""
    photo, painting = load_image(CONTENT, 64), load_image(STYLE, 64)
    plain = Objective(photo, painting, Options(size=64, weights=weights, normalization="mean"))
    relative = Objective(photo, painting, Options(size=64, weights=weights, normalization="photo"))
    image = np.clip(photo + 0.2, 0.0, 1.0)
    target = backend.to_numpy(plain.content_targets[0])
    assert relative.evaluate(image)["content"] == pytest.approx(
        plain.evaluate(image)["content"] / float(np.mean(np.square(target))), rel=1e-4
    )


@pytest.mark.e2e
def test_a_step_compiled_for_one_photo_scores_another_against_that_photos_own_references(weights):
    """Under "photo" what the losses are relative to (the photo's energies at the content layers,
    the style layers' weights over the photo's own terms) is part of the targets, the step's
    inputs: a step compiled for one photo (a clip's first frame), given another's targets, gives
    that other photo's own losses."""
    cat, coffee = load_image(CONTENT, 64), load_image(EXAMPLES / "coffee.jpg", 64)
    height, width = min(cat.shape[0], coffee.shape[0]), min(cat.shape[1], coffee.shape[1])
    painting = load_image(STYLE, 64)
    options = Options(size=64, weights=weights, normalization="photo", jit_compile=False)
    first, other = (Objective(photo[:height, :width], painting, options) for photo in (cat, coffee))
    assert first.signature == other.signature  # one compiled step serves both
    step = step_function(first, lambda image: image, lambda image, losses, gradient: losses, jit_compile=False)
    image = ops.convert_to_tensor(np.clip(cat[np.newaxis, :height, :width] + 0.1, 0.0, 1.0))
    own, borrowed = backend.floats(other(image)), backend.floats(step(other.targets, 0, image))
    assert borrowed == pytest.approx(own, rel=1e-5)
    # Not the first photo's references: its photo is next to the image, the other's far from it.
    assert backend.floats(step(first.targets, 0, image))["content"] < own["content"] / 2


@pytest.mark.e2e
def test_photo_normalisation_in_tiles_is_the_whole_images(weights):
    photo = load_image(CONTENT, 96)
    image = np.clip(photo + np.random.default_rng(0).normal(0.0, 0.1, photo.shape), 0.0, 1.0).astype(np.float32)
    options = Options(size=96, weights=weights, normalization="photo", jit_compile=False)
    painting = load_image(STYLE, 96)
    tensor = ops.convert_to_tensor(image[np.newaxis])
    whole_losses, whole_gradient = backend.value_and_grad(Objective(photo, painting, options))(tensor)
    tiled_losses, tiled_gradient = TiledObjective(photo, painting, options, tile=32, halo=96).value_and_grad(tensor)
    for name, value in backend.floats(whole_losses).items():
        assert backend.floats(tiled_losses)[name] == pytest.approx(value, rel=1e-5), name
    whole_gradient, tiled_gradient = backend.to_numpy(whole_gradient), backend.to_numpy(tiled_gradient)
    assert np.linalg.norm(tiled_gradient - whole_gradient) / np.linalg.norm(whole_gradient) < 1e-5


@pytest.mark.unit
@pytest.mark.parametrize("size", [192, 256, 512, 700, 1024, 2048, 4096])
@pytest.mark.unit
def test_the_painting_ladder_starts_small_and_its_sizes_grow_by_at_most_their_ratio(size):
    """Up to the viewing size at most twice (its enlargements keep no lattice), a print's larger
    sizes at most 1.8 times, and a print continues from the viewing size as the print ladder does."""
    options = Options(size=size, ladder="painting")
    sizes = options.scale_sizes()
    assert sizes[0] == options.scale_start and sizes[-1] == size
    for earlier, later in zip(sizes, sizes[1:], strict=False):
        assert 1 < later / earlier <= (PAINTING_STEP_RATIO if later <= 2 * 512 else PRINT_STEP_RATIO) + 0.01
    assert len(options.steps_per_size()) == len(sizes)
    if size > 1024:
        assert 512 in sizes and sizes[sizes.index(512) :] == Options(size=size, ladder="print").scale_sizes()


@pytest.mark.unit
def test_pictures_made_before_the_ladder_existed_reproduce_with_one_size():
    old = Options.from_dict({"size": 512, "scales": None, "steps": 100})  # params of nst 0.2 lack "ladder"
    assert old.scale_sizes() == [512] and old.enlarge == "bicubic"


@pytest.mark.unit
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


@pytest.mark.unit
def test_the_detail_enlargement_leaves_no_lattice_and_keeps_the_photos_fine_detail():
    """A textured 256 px picture enlarged to 512 px: bicubic leaves a lattice at period 2, the
    detail enlargement none, and it carries the photo's edges where bicubic is soft."""
    rng = np.random.default_rng(0)
    photo = load_image(CONTENT, 512)
    small = np.clip(resize_pixels(photo, (photo.shape[0] // 2, 256)) + rng.normal(0, 0.05, (170, 256, 3)), 0, 1)
    small = small.astype(np.float32)
    bicubic = resize_pixels(small, photo.shape)
    detail = enlarged_with_detail(small, photo)
    assert measures.lattice(bicubic, photo) > 3 * measures.lattice(detail, photo)
    assert measures.lattice(detail, photo) < measures.MAX_LATTICE
    fine = photo - gaussian_blur(photo, 1.0)
    assert np.corrcoef((detail - gaussian_blur(detail, 1.0)).ravel(), fine.ravel())[0, 1] > 0.9


def _ladder_of_enlargements(enlarge) -> np.ndarray:
    """Noise at the first of a 5-size ladder (128 to 1024 px, steps of 1.68x, as a print's 512 to
    4096 px), each larger size the smaller enlarged by ``enlarge`` plus a little fresh noise: sizes
    whose few steps change the picture little, as nst 0.2's plan gave a print's largest."""
    rng = np.random.default_rng(0)
    picture = None
    for side in (128, 215, 362, 609, 1024):
        noise = (0.5 + 0.1 * rng.standard_normal((round(0.625 * side), side, 3))).astype(np.float32)
        picture = noise if picture is None else np.clip(enlarge(picture, noise) + 0.05 * (noise - 0.5), 0, 1)
    return picture.astype(np.float32)


@pytest.mark.unit
def test_bicubic_enlargements_chained_leave_straight_lines_and_the_detail_enlargement_none():
    """The straight rows and columns of nst 0.2's prints (docs/print.md): where the successive
    bicubic enlargements' interpolation phases meet, a row or column stands out, at the same
    place in both axes and whatever the picture (noise here: 1.85 times its neighbours). The
    detail enlargement's blur takes them out with the lattices."""
    bicubic = _ladder_of_enlargements(lambda picture, noise: resize_pixels(picture, noise.shape))
    detail = _ladder_of_enlargements(enlarged_with_detail)
    assert measures.line_prominence(bicubic) > 1.5
    assert measures.line_prominence(detail) < 1.1


@pytest.mark.slow
def test_the_default_on_a_small_pair_is_clean_and_paints_larger_forms_than_nst_0_2(weights):
    from nst import stylize
    from nst.run.api import coarse_style

    default = stylize(CONTENT, STYLE, size=128, weights=weights)
    classic = stylize(CONTENT, STYLE, Options.preset("classic", size=128, weights=weights))
    final = default.report["final"]
    assert final["grid"] <= measures.MAX_GRID and final["noise"] <= measures.MAX_NOISE
    assert final["outliers"] <= measures.outlier_bound(final)
    assert coarse_style(default.pixels, CONTENT, STYLE, 128, 2) < coarse_style(classic.pixels, CONTENT, STYLE, 128, 2)
