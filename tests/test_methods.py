"""L-BFGS, the scale ladder, the time budget, the spec preset and scoring, on tiny images."""

import json
import warnings

import keras
import numpy as np
import pytest

from nst import Options, score, stylize
from nst.core import backend
from nst.core.features import FeatureExtractor
from nst.core.objective import Objective
from nst.core.optimizers import CompiledSteps
from nst.media import measures
from nst.media.images import NstWarning, load_image
from nst.options import CONTENT_LAYERS, STYLE_LAYERS
from nst.run import ladder, plan, runner
from tests.helpers import CONTENT, STYLE, FakeClock, nst_here, relative_difference, within

pytestmark = pytest.mark.e2e


@pytest.mark.core
def test_lbfgs_stays_in_bounds_and_beats_adam_per_evaluation(weights):
    evaluated = []
    lbfgs = stylize(
        CONTENT,
        STYLE,
        size=64,
        steps=25,
        optimizer="lbfgs",
        weights=weights,
        callback=lambda p: evaluated.append(p.image()),
    )
    adam = stylize(CONTENT, STYLE, size=64, steps=25, optimizer="adam", weights=weights)
    assert len(evaluated) == 25
    for image in [*evaluated, lbfgs.pixels]:
        assert image.min() >= 0.0 and image.max() <= 1.0
    within("25 evaluations: L-BFGS's loss over Adam's", lbfgs.report["final"]["total"] / adam.report["final"]["total"],
           below=0.7)  # fmt: skip


def test_scale_ladder_reaches_the_requested_size_with_targets_at_each_scale(weights, monkeypatch):
    shapes = []

    class RecordingObjective(Objective):
        def __init__(self, content, styles, options, masks=None, **planned):
            super().__init__(content, styles, options, masks, **planned)
            shapes.append((content.shape, styles[0].shape, self.content_targets[0].shape))

    monkeypatch.setattr(runner, "Objective", RecordingObjective)
    options = Options(size=96, scales=3, scale_start=48, coarse_steps=2, steps=2, style_size=192, weights=weights)
    assert ladder.scale_sizes(options) == [48, 68, 96]
    result = stylize(CONTENT, STYLE, options)
    assert result.pixels.shape == (64, 96, 3)  # cat.jpg is 451x300
    assert [content for content, _, _ in shapes] == [(32, 48, 3), (45, 68, 3), (64, 96, 3)]
    # The painting keeps its size relative to the output: twice the longer side at every scale.
    assert [max(style[:2]) for _, style, _ in shapes] == [96, 136, 192]
    # block5_conv2 sees the image after four poolings: its targets follow each scale's size.
    assert [target[1:3] for _, _, target in shapes] == [(2, 3), (2, 4), (4, 6)]
    assert result.report["steps_per_scale"] == [2, 2, 2]


class StepClock(FakeClock):
    """The run's clock, moved on only by its steps: the plan's logic without the machine's load
    (how well real budgets are kept is measured by benchmarks/time_budget.py)."""

    def __init__(self, seconds_per_pixel: float) -> None:
        super().__init__()
        self.seconds_per_pixel = seconds_per_pixel

    def step(self, progress) -> None:
        """A progress callback: the step just taken lasted its pixels' worth of seconds."""
        height, width = progress.image().shape[:2]
        self.advance(self.seconds_per_pixel * height * width)


def test_a_time_budget_takes_every_step_that_fits_and_no_more(weights, monkeypatch):
    clock = StepClock(seconds_per_pixel=1 / (64 * 43))  # a step of 1 s at 64x43 px
    monkeypatch.setattr(plan, "clock", clock)
    result = stylize(
        CONTENT, STYLE, size=64, steps=10_000, time_budget=10.0, jit_compile=False, weights=weights,
        callback=clock.step,
    )  # fmt: skip
    # 10,000 steps cannot fit: the plan ends the run. Nine 1 s steps leave 1 s, less than a
    # step and the final evaluation's reserve.
    assert result.report["steps_per_scale"] == [9]
    assert result.report["wall_s"] == 9.0


def test_a_time_budget_is_shared_by_the_scales_as_their_planned_work(weights, monkeypatch):
    clock = StepClock(seconds_per_pixel=1e-4)  # 0.15 s a step at 48x32 px, 0.61 s at 96x64 px
    monkeypatch.setattr(plan, "clock", clock)
    options = Options(
        size=96, scales=2, scale_start=48, coarse_steps=300, steps=100, time_budget=15.0, weights=weights,
        jit_compile=False,
    )  # fmt: skip
    result = stylize(CONTENT, STYLE, options, callback=clock.step)
    coarse, fine = result.report["steps_per_scale"]
    # Planned work: 300 coarse steps of 0.15 s, 100 fine ones of 0.61 s: 43% of the time coarse.
    within("a 15 s budget: the coarse size's share, off its planned 0.43", abs(coarse * 0.1536 / 15.0 - 0.43),
           at_most=0.05)  # fmt: skip
    within("a 15 s budget: the fine size's steps", fine, at_least=plan.FEWEST_STEPS_AFTER_ENLARGING)
    within("a 15 s budget: seconds left unused", 15.0 - result.report["wall_s"], at_most=0.6144)
    within("a 15 s budget: seconds over it", result.report["wall_s"] - 15.0, at_most=0.0)


@pytest.mark.parametrize("budget", [2.0, 6.0])
def test_a_size_the_budget_cannot_finish_is_dropped_and_one_it_runs_gets_its_least_steps(weights, monkeypatch, budget):
    """2 s: the 96 px size's least steps (6 of 0.61 s) cannot fit, where shares by planned work
    alone gave it one step: it is dropped, and the 48 px picture, enlarged, is the result. 6 s:
    they fit, though its share (57%) would give it 5: it gets its 6, and the 48 px size the rest."""
    clock = StepClock(seconds_per_pixel=1e-4)  # 0.15 s a step at 48x32 px, 0.61 s at 96x64 px
    monkeypatch.setattr(plan, "clock", clock)
    options = Options(
        size=96, scales=2, scale_start=48, coarse_steps=300, steps=100, time_budget=budget, weights=weights,
        jit_compile=False,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        result = stylize(CONTENT, STYLE, options, callback=clock.step)
    coarse, fine = result.report["steps_per_scale"]
    sizes = result.report["sizes"]
    said = [str(warning.message) for warning in warned if issubclass(warning.category, NstWarning)]
    told = f"the time budget cannot finish 96 px ({sizes[1].get('dropped')}); a longer --time-budget runs it"
    assert said == ([told] if budget == 2.0 else [])
    assert result.pixels.shape == (64, 96, 3)
    within(f"a {budget:g} s budget: seconds over it", result.report["wall_s"] - budget, at_most=0.0)
    if budget == 2.0:
        assert fine == 0 and sizes[1]["steps"] == 0
        assert sizes[1]["dropped"].startswith("its 6 steps need about 4 s and ")
        assert sizes[1]["dropped"].endswith("are left: the picture is the 48 px one, enlarged")
        assert result.report["final"]["losses_at"] == 48
        within(
            "a 2 s budget: the coarse size's steps", coarse, at_least=10
        )  # the whole budget went to the size that could
    else:
        assert fine == plan.FEWEST_STEPS_AFTER_ENLARGING and "dropped" not in sizes[1]
        unused = budget - (coarse * 0.1536 + fine * 0.6144)  # nothing left unused
        within("a 6 s budget: seconds of steps left unused", unused, at_most=0.6144 + 0.4 * 0.6144)


def test_spec_preset_is_the_tutorial_loop(weights):
    """The preset against the TensorFlow tutorial's loop written out here independently."""
    import tensorflow as tf  # the tutorial's own library (this test runs on the TensorFlow backend)

    options = Options.preset("spec", size=48, steps=4, weights=weights)
    assert (options.optimizer, options.learning_rate, options.beta_1, options.epsilon) == ("adam", 0.02, 0.99, 0.1)
    assert (options.init, options.scales, options.normalization, options.steps) == ("content", 1, "mean", 4)
    assert (options.content_weight, options.style_weight, options.tv_weight) == (1e4, 1e-2, 0.0)
    result = stylize(CONTENT, STYLE, options)

    content, style = load_image(CONTENT, 48)[None], load_image(STYLE, 48)[None]
    extractor = FeatureExtractor(CONTENT_LAYERS + STYLE_LAYERS, weights)

    def gram(features):
        return tf.linalg.einsum("bijc,bijd->bcd", features, features) / float(features.shape[1] * features.shape[2])

    style_targets = {name: gram(value) for name, value in extractor(style).items() if name in STYLE_LAYERS}
    content_target = extractor(content)["block5_conv2"]
    image = tf.Variable(content)
    adam = keras.optimizers.Adam(learning_rate=0.02, beta_1=0.99, epsilon=0.1)
    for _ in range(4):
        with tf.GradientTape() as tape:
            outputs = extractor(image)
            style_loss = tf.add_n([tf.reduce_mean((gram(outputs[n]) - style_targets[n]) ** 2) for n in STYLE_LAYERS])
            content_loss = tf.reduce_mean((outputs["block5_conv2"] - content_target) ** 2)
            loss = 1e-2 * style_loss / 5 + 1e4 * content_loss
        adam.apply_gradients([(tape.gradient(loss, image), image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
    within("--preset spec against the tutorial's loop, largest pixel difference",
           np.abs(result.pixels - image.numpy()[0]).max(), at_most=2e-5)  # fmt: skip


def test_score_command_prints_the_losses_of_a_result(tmp_path, weights):
    result = stylize(CONTENT, STYLE, size=48, steps=3, weights=weights)
    output = result.save(tmp_path / "out.png")
    completed = nst_here("score", output, "--content", CONTENT, "--style", STYLE, "--json", "--weights", weights)
    assert completed.returncode == 0, completed.stderr
    scored = json.loads(completed.stdout)
    # Every figure the API gives, each explained in the command's help.
    assert list(scored) == list(score(output, CONTENT, STYLE, Options(size=48, weights=weights)))
    assert set(scored) == {"content", "style", "tv", "total", "grid", "noise", "outliers", "outliers_painting",
                           "lattice", "lines"} <= set(measures.MEANINGS)  # fmt: skip
    tileable = nst_here("score", output, "--content", CONTENT, "--style", STYLE, "--json", "--weights", weights,
                        "--tileable")  # fmt: skip
    assert set(json.loads(tileable.stdout)) == set(scored) | {"seam"}, tileable.stderr
    for name in ("content", "style", "tv", "total", "grid", "noise"):  # the saved PNG is the result rounded to 8 bits
        difference = relative_difference(scored[name], result.report["final"][name])
        within(f"nst score of the saved picture against the report's {name}, relative", difference, at_most=0.02)


def test_score_of_the_photo_itself_has_no_content_loss(weights):
    losses = score(CONTENT, CONTENT, STYLE, Options(size=64, weights=weights))
    assert losses["content"] == 0.0 and losses["style"] > 0


@pytest.mark.e2e
def test_a_process_keeps_its_lbfgs_steps_for_its_next_runs_and_not_adams(weights, monkeypatch):
    """The web app's next job or a batch worker's next item at the same size starts without
    compiling its L-BFGS step again, and makes the very picture a fresh step would; Adam's kept
    step would hold three images, so each run compiles its own. At most the capacity's steps stay."""
    monkeypatch.setattr(runner, "KEPT_LBFGS_STEPS", CompiledSteps(capacity=2))
    compiled = []
    compile_step = backend.compile
    monkeypatch.setattr(backend, "compile", lambda *args, **kwargs: compiled.append(1) or compile_step(*args, **kwargs))
    settings = {"size": 48, "steps": 1, "weights": weights, "jit_compile": False}
    first = stylize(CONTENT, STYLE, **settings)
    assert len(compiled) == 1
    again = stylize(CONTENT, STYLE, **settings)
    assert len(compiled) == 1  # the kept step
    np.testing.assert_array_equal(again.pixels, first.pixels)
    for size in (32, 40):  # two more sizes: the 48 px step is the least recently used, and freed
        stylize(CONTENT, STYLE, **{**settings, "size": size})
    stylize(CONTENT, STYLE, **settings)
    assert len(compiled) == 4
    for _ in range(2):
        stylize(CONTENT, STYLE, **{**settings, "optimizer": "adam"})
    assert len(compiled) == 6
