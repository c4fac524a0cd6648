"""Artistic control: keeping the photo's colours, several styles, style scale, initialisation."""

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from nst import NstError, Options, reproduce, score, stylize
from nst.core.objective import Objective
from nst.media import colors
from nst.media.animations import save_animation
from nst.media.images import load_image
from nst.run import runner
from nst.run.api import CompiledSteps
from nst.run.checkpoints import load_checkpoint
from nst.run.inputs import load_mask
from nst.run.snapshots import Snapshots
from tests.helpers import CONTENT, EXAMPLES, STYLE, relative_difference, tolerance_used, within

SCREAM = EXAMPLES / "the-scream.jpg"
# Tiny runs; XLA's seconds of compiling would dominate them and change nothing tested here.
FAST = {"size": 64, "steps": 30, "jit_compile": False}


def chroma_statistics(pixels: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of the I and Q (chrominance) channels of YIQ."""
    chroma = colors.rgb_to_yiq(pixels)[..., 1:].reshape(-1, 2)
    return np.concatenate([chroma.mean(axis=0), chroma.std(axis=0)])


@pytest.fixture(scope="module")
def color_runs(weights):
    return {
        mode: stylize(CONTENT, STYLE, weights=weights, preserve_colors=mode, **FAST).pixels
        for mode in (None, "luminance", "histogram")
    }


@pytest.mark.e2e
def test_preserving_colors_keeps_the_photos_chroma(color_runs):
    photo = chroma_statistics(load_image(CONTENT, 64))
    distance = {mode: np.linalg.norm(chroma_statistics(pixels) - photo) for mode, pixels in color_runs.items()}
    # Plain transfer paints the photo in Starry Night's blues; both options keep its colours.
    within("chroma distance, luminance over plain", distance["luminance"] / distance[None], below=0.25)
    within("chroma distance, histogram over plain", distance["histogram"] / distance[None], below=0.3)
    within("chroma distance, luminance", distance["luminance"], below=0.02)


@pytest.mark.e2e
def test_luminance_mode_takes_the_colors_of_the_photo_exactly(color_runs):
    # The output's I and Q are the photo's wherever the recombined colour did not need clipping.
    photo_chroma = colors.rgb_to_yiq(load_image(CONTENT, 64))[..., 1:]
    output_chroma = colors.rgb_to_yiq(color_runs["luminance"])[..., 1:]
    within("luminance mode: median chroma difference", np.median(np.abs(output_chroma - photo_chroma)), below=0.01)


@pytest.mark.e2e
def test_histogram_matching_gives_the_painting_the_photos_mean_and_covariance():
    painting, photo = load_image(STYLE, 64), load_image(CONTENT, 64)
    matched = colors.match_color_histogram(painting, photo)
    means = matched.reshape(-1, 3).mean(axis=0), photo.reshape(-1, 3).mean(axis=0)
    within("histogram matching: mean colour, tolerance used", tolerance_used(*means, atol=0.02), at_most=1.0)
    covariances = (np.cov(image.reshape(-1, 3), rowvar=False) for image in (matched, photo))
    within("histogram matching: covariance, tolerance used", tolerance_used(*covariances, atol=0.003), at_most=1.0)


@pytest.mark.e2e
def test_a_blend_of_one_and_zero_is_the_single_style_run(weights):
    single = stylize(CONTENT, STYLE, weights=weights, **FAST).pixels
    blended = stylize(CONTENT, [STYLE, SCREAM], weights=weights, style_blend=(1, 0), **FAST).pixels
    within("a 1,0 blend against the single painting's run, largest pixel difference", np.abs(blended - single).max(),
           at_most=1e-6)  # fmt: skip


@pytest.mark.e2e
def test_style_losses_follow_the_blend(weights):
    blends = [(1, 0), (0.5, 0.5), (0, 1)]
    scoring = Options(size=64, weights=weights)
    starry, scream = [], []
    for blend in blends:
        result = stylize(CONTENT, [STYLE, SCREAM], weights=weights, style_blend=blend, **FAST)
        starry.append(score(result.pixels, CONTENT, STYLE, scoring)["style"])
        scream.append(score(result.pixels, CONTENT, SCREAM, scoring)["style"])
    # Less weight on a painting, further from its style; more weight, closer.
    assert starry == sorted(starry) and scream == sorted(scream, reverse=True)


@pytest.mark.e2e
def test_style_scale_sets_the_size_the_gram_targets_are_taken_at(weights, monkeypatch):
    seen = []

    class RecordingObjective(Objective):
        def __init__(self, content, styles, options, masks=None, **planned):
            super().__init__(content, styles, options, masks, **planned)
            seen.append((styles[0].shape, self.style_targets[0].shape))

    monkeypatch.setattr(runner, "Objective", RecordingObjective)
    for scale in (0.5, 2.0):
        stylize(CONTENT, STYLE, weights=weights, style_scale=scale, **{**FAST, "steps": 1})
    (small, small_gram), (large, large_gram) = seen
    assert max(small[:2]) == 32 and max(large[:2]) == 128  # starry-night.jpg is landscape
    assert small_gram == large_gram == (1, 64, 64)  # Gram matrices: channels x channels, any size


@pytest.mark.e2e
def test_init_style_mean_and_init_from_a_file(weights, tmp_path):
    start = stylize(CONTENT, STYLE, weights=weights, init="style-mean", **{**FAST, "steps": 0}).pixels
    expected = load_image(STYLE, 64).mean(axis=(0, 1))
    np.testing.assert_allclose(start, np.broadcast_to(expected, start.shape), atol=1e-6)

    path = tmp_path / "start.png"
    Image.fromarray(np.full((10, 20, 3), 200, np.uint8)).save(path)
    start = stylize(CONTENT, STYLE, weights=weights, init=str(path), **{**FAST, "steps": 0}).pixels
    assert start.shape == load_image(CONTENT, 64).shape
    np.testing.assert_allclose(start, 200 / 255, atol=1e-6)


@pytest.mark.e2e
def test_snapshots_and_animation(weights, tmp_path):
    output = tmp_path / "out.png"
    snapshots = Snapshots(output, save_every=2, animation=tmp_path / "run.gif")
    result = stylize(CONTENT, STYLE, weights=weights, callback=snapshots, **{**FAST, "steps": 6})
    result.save(output)
    snapshots.finish(result)
    assert sorted(path.name for path in tmp_path.glob("out-*.png")) == ["out-0002.png", "out-0004.png", "out-0006.png"]
    with Image.open(tmp_path / "run.gif") as animation:
        # Steps 2, 4, 6 and the result; Pillow merges the result into step 6's frame when they are equal.
        assert animation.n_frames in (3, 4)
        animation.seek(animation.n_frames - 1)
        last = np.asarray(animation.convert("RGB"), dtype=np.float64)
    # GIF keeps 256 colours: the last frame is the output up to that quantisation.
    expected = np.asarray(Image.open(output), dtype=np.float64)
    within("GIF's last frame against the picture, mean difference", np.abs(last - expected).mean(), below=6)
    frames = [*snapshots.frames, result.image]

    save_animation(frames, tmp_path / "run.webp")  # lossless: the last frame is the output exactly
    with Image.open(tmp_path / "run.webp") as animation:
        assert animation.n_frames in (3, 4)  # as in the GIF
        animation.seek(animation.n_frames - 1)
        np.testing.assert_array_equal(np.asarray(animation.convert("RGB"), dtype=np.float64), expected)

    save_animation(frames, tmp_path / "run.mp4", frame_ms=100)
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "run.mp4"))
    meta = next(reader)
    decoded = [np.frombuffer(frame, np.uint8) for frame in reader]
    width, height = meta["size"]
    assert (width, height) == (64, 42)  # 64x43 made even for H.264's yuv420p
    assert len(decoded) == 3 + 20  # three snapshots, then the result held two seconds at 10 fps
    last = decoded[-1].reshape(height, width, 3).astype(np.float64)
    difference = np.abs(last - expected[:height, :width]).mean()  # lossy, but the same picture
    within("MP4's last frame against the picture, mean difference", difference, below=6)

    with pytest.raises(NstError, match="name it .gif, .webp or .mp4"):
        Snapshots(output, animation=tmp_path / "run.avi")


@pytest.mark.e2e
def test_reproduce_runs_again_from_a_pngs_parameters(weights, tmp_path):
    first = stylize(CONTENT, [STYLE, SCREAM], weights=weights, style_blend=(2, 1), preserve_colors="histogram", **FAST)
    path = first.save(tmp_path / "first.png")
    again = reproduce(path)
    assert again.report["params"] == first.report["params"]
    within("reproduced against the first, largest pixel difference", np.abs(again.pixels - first.pixels).max(),
           at_most=1e-5)  # fmt: skip
    with pytest.raises(NstError, match="carries no nst parameters"):
        reproduce(CONTENT)


def half_masks(tmp_path, size=(64, 43)):
    """Left half white and right half white, as mask files of another size than the output."""
    width, height = size[0] * 2, size[1] * 2
    left = np.zeros((height, width), np.uint8)
    left[:, : width // 2] = 255
    paths = tmp_path / "left.png", tmp_path / "right.png"
    Image.fromarray(left).save(paths[0])
    Image.fromarray(255 - left).save(paths[1])
    return paths


@pytest.mark.e2e
def test_mask_keeps_the_photo_where_it_is_black(weights, tmp_path):
    left, right = half_masks(tmp_path)
    result = stylize(CONTENT, STYLE, weights=weights, mask=str(right), **FAST).pixels
    photo = load_image(CONTENT, 64)
    kept, stylized = np.abs(result - photo)[:, :30], np.abs(result - photo)[:, 34:]
    within("masked: largest change where the mask is black", kept.max(), below=1e-6)
    within("masked: mean change where it is white", stylized.mean(), above=0.05)


@pytest.mark.e2e
def test_each_region_takes_the_style_of_its_own_mask(weights, tmp_path):
    left, right = half_masks(tmp_path)
    result = stylize(
        CONTENT, [STYLE, SCREAM], weights=weights, style_masks=(str(left), str(right)), **{**FAST, "steps": 40}
    ).pixels
    photo, options = load_image(CONTENT, 64), Options(size=64, weights=weights)

    def region_style_loss(mask_path, painting):
        mask = load_mask(mask_path, photo.shape)
        return Objective(photo, load_image(painting, 64), options, [mask]).evaluate(result)["style"]

    within("left region: Starry Night's style loss over The Scream's",
           region_style_loss(left, STYLE) / region_style_loss(left, SCREAM), below=1.0)  # fmt: skip
    within("right region: The Scream's style loss over Starry Night's",
           region_style_loss(right, SCREAM) / region_style_loss(right, STYLE), below=1.0)  # fmt: skip


def check_resumed(resumed, whole) -> None:
    """A resumed run is the very run it continues: the same picture and loss, within float rounding."""
    within("resumed against the whole run, largest pixel difference", np.abs(resumed.pixels - whole.pixels).max(),
           at_most=1e-5)  # fmt: skip
    total = relative_difference(resumed.report["final"]["total"], whole.report["final"]["total"])
    within("resumed against the whole run, total loss, relative", total, at_most=1e-5)


@pytest.mark.core
@pytest.mark.e2e
def test_resuming_a_checkpoint_continues_the_run(weights, tmp_path):
    """With Adam; L-BFGS: the next test. The three runs share their compiled step, as a clip's
    frames do (JAX compiles it once, not three times); the whole run comes between the checkpoint
    and the resumed run, so that the step resumes from the checkpoint's state, not from what the
    shared step held last (the end of the whole run)."""
    settings = {**FAST, "weights": weights, "optimizer": "adam", "compiled_steps": CompiledSteps()}
    checkpoint = tmp_path / "run.npz"
    stylize(CONTENT, STYLE, **{**settings, "steps": 4}, checkpoint=str(checkpoint), checkpoint_every=4)
    whole = stylize(CONTENT, STYLE, **{**settings, "steps": 8})
    resumed = stylize(CONTENT, STYLE, **{**settings, "steps": 8}, resume=str(checkpoint))
    assert resumed.report["steps_per_scale"] == [8]
    assert [entry["step"] for entry in resumed.report["history"]] == [0, 8]  # step 0 came from the checkpoint
    # The optimizer's whole state is in the checkpoint (Adam's moments; L-BFGS's curvature pairs
    # and line search): the very same run.
    check_resumed(resumed, whole)


# The tiled run is slow on the other backends' op-by-op update: the core tier runs it whole.
@pytest.mark.parametrize("tile", [pytest.param(None, marks=pytest.mark.core, id="whole"), pytest.param(32, id="tiles")])
@pytest.mark.e2e
def test_lbfgs_resumes_exactly_after_its_ring_of_pairs_has_wrapped_around(weights, tmp_path, tile):
    """3 pairs, 6 steps before the checkpoint: new pairs have been written over the oldest. In tiles
    the update runs op by op and writes its pairs in place; whole, compiled code updates them. The
    whole state is in the checkpoint (the curvature pairs and the line search): the very same run."""
    settings = {**FAST, "weights": weights, "lbfgs_history": 3, "tile": tile, "halo": 16 if tile else 32,
                "scales": 1}  # fmt: skip
    whole = stylize(CONTENT, STYLE, **{**settings, "steps": 10})
    checkpoint = tmp_path / "run.npz"
    stylize(CONTENT, STYLE, **{**settings, "steps": 6}, checkpoint=str(checkpoint), checkpoint_every=6)
    saved = np.load(checkpoint)
    assert sorted(name for name in saved.files if name.startswith("lbfgs/step/")) == [
        "lbfgs/step/000", "lbfgs/step/001", "lbfgs/step/002"
    ]  # fmt: skip
    resumed = stylize(CONTENT, STYLE, **{**settings, "steps": 10}, resume=str(checkpoint))
    assert resumed.report["sizes"][0]["tile"] == tile and resumed.report["steps_per_scale"] == [10]
    assert [entry["step"] for entry in resumed.report["history"]] == [0, 10]  # step 0 came from the checkpoint
    check_resumed(resumed, whole)


@pytest.mark.e2e
def test_ctrl_c_leaves_a_checkpoint(weights, tmp_path):
    checkpoint = tmp_path / "run.npz"

    def interrupt(progress):
        if progress.step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stylize(
            CONTENT, STYLE, weights=weights, optimizer="adam", checkpoint=str(checkpoint), callback=interrupt, **FAST
        )
    assert load_checkpoint(checkpoint).steps == 3


@pytest.mark.e2e
def test_resuming_on_a_ladder_of_sizes_continues_the_run(weights, tmp_path):
    settings = {**FAST, "weights": weights, "scales": 2, "scale_start": 48, "coarse_steps": 4, "steps": 4}
    whole = stylize(CONTENT, STYLE, **settings)
    checkpoint = tmp_path / "run.npz"

    def interrupt(progress):
        if progress.scale == 2 and progress.step == 6:  # two steps into the second size
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stylize(CONTENT, STYLE, **settings, checkpoint=str(checkpoint), callback=interrupt)
    assert load_checkpoint(checkpoint).steps_per_scale == [4, 2]
    resumed = stylize(CONTENT, STYLE, **settings, resume=str(checkpoint))
    assert resumed.report["steps_per_scale"] == [4, 4]
    within("resumed mid-ladder against the whole run, largest pixel difference",
           np.abs(resumed.pixels - whole.pixels).max(), at_most=1e-5)  # fmt: skip


@pytest.mark.e2e
def test_a_checkpoint_must_fit_the_run(weights, tmp_path):
    checkpoint = tmp_path / "run.npz"
    stylize(CONTENT, STYLE, weights=weights, **{**FAST, "steps": 1}, checkpoint=str(checkpoint), checkpoint_every=1)
    with pytest.raises(NstError, match="a checkpoint of lbfgs, not adam"):
        stylize(CONTENT, STYLE, weights=weights, optimizer="adam", resume=str(checkpoint), **FAST)
    with pytest.raises(NstError, match="a checkpoint of a 64x43 image, but this run's is 96x64"):
        stylize(CONTENT, STYLE, weights=weights, resume=str(checkpoint), **{**FAST, "size": 96})
    with pytest.raises(NstError, match="not a checkpoint"):
        load_checkpoint(CONTENT)
