"""Style transfer end to end: the ladder of scales, how many steps each scale gets (by count or
by a time budget), progress, the report, and scoring an image."""

from __future__ import annotations

import nst.quiet_start  # noqa: F401  before Keras's backend is imported below: TensorFlow starts without its notices

# isort: split
import dataclasses
import functools
import gc
import json
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import PIL
from PIL import Image

from nst import __version__
from nst.checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from nst.core import backend
from nst.core.adam import run_adam
from nst.core.features import load_vgg19
from nst.core.lbfgs import run_lbfgs
from nst.core.objective import Objective, TemporalTarget
from nst.core.tiles import TiledObjective, Tiling, alignment
from nst.errors import Interrupted, NstError, StoppedEarly
from nst.media import colors, measures
from nst.media.images import (
    ImageSource,
    describe,
    fitted_size,
    open_image,
    open_image_with_alpha,
    read_params,
    resize_longest_side,
    save_image,
    to_array,
    to_pil,
    write_atomically,
)
from nst.memory import SizePlan, check_memory, memory_limit, plan_size
from nst.options import Options

# What a time budget is planned with until the run has measured its own: seconds per pixel of
# one step on a 2-core CPU (measured: 6.9e-6 at 128 px, 5.5e-6 at 512 px), and seconds to set
# up a scale (targets, compiling the step).
_PRIOR_SECONDS_PER_PIXEL = 7e-6
_PRIOR_SCALE_OVERHEAD_S = 1.0
# Adam's learning rate where memory leaves no room for L-BFGS at a print's larger sizes: at 768 px
# from an enlarged 384 px picture, 12 steps at 0.02 add speckle (noise 1.40); 0.005 does not
# (0.77) and gets 6.6 times lower (L-BFGS: 14.6 times; docs/print.md).
DETAIL_LEARNING_RATE = 0.005
OPTIMIZERS = {"adam": run_adam, "lbfgs": run_lbfgs}
# The clock of elapsed times and of time budgets (the tests plan budgets with a fake one).
_clock = time.perf_counter


@dataclass
class Progress:
    """What the run tells its callback after each step.

    ``losses`` were measured on the image the step started from, at the current scale;
    :meth:`image` returns the image after the step, computed only when asked for. Under a
    time budget ``steps`` is an estimate and ``time_budget_s`` is set."""

    step: int
    steps: int
    elapsed_s: float
    losses: dict[str, float]
    scale: int
    scales: int
    time_budget_s: float | None
    _image: Callable[[], np.ndarray] = field(repr=False)
    remaining_s: float | None = None  # the time left, as the run measures its steps (or its budget's)

    def image(self) -> np.ndarray:
        """The current image, (H, W, 3) float32 in [0, 1]."""
        return self._image()


ProgressCallback = Callable[[Progress], None]
TileCallback = Callable[[int, int, int], None]


@dataclass
class Result:
    """A finished run: the picture and the report (``params``, ``history``, ``final``, ``wall_s``)."""

    pixels: np.ndarray
    report: dict[str, Any]
    alpha: Image.Image | None = None  # the photo's transparency, if it had any

    @property
    def image(self) -> Image.Image:
        """The result as an 8-bit RGB PIL image."""
        return to_pil(self.pixels)

    def save(self, path: str | os.PathLike, *, fallback: bool = False) -> Path:
        """Write the image (format from the extension; PNG carries the parameters).

        With ``fallback``, a picture that cannot be written there (disk full, folder gone) is
        written to the system's temporary folder instead, and the error says where: a long
        run is never lost."""
        try:
            return save_image(self.pixels, path, metadata=self.report["params"], alpha=self.alpha)
        except NstError as error:
            if not fallback:
                raise
            path = Path(path)
            spare = Path(tempfile.gettempdir()) / f"nst-{path.stem}-{os.getpid()}{path.suffix}"
            spare = save_image(self.pixels, spare, metadata=self.report["params"], alpha=self.alpha)
            raise NstError(f"{error}; the picture is safe in {spare}") from None

    def save_report(self, path: str | os.PathLike) -> Path:
        """Write the report as JSON, atomically."""
        text = json.dumps(self.report, indent=2) + "\n"
        return write_atomically(Path(path), lambda file: file.write(text.encode()))


def stylize(
    content: ImageSource,
    style: ImageSource | Sequence[ImageSource],
    options: Options | None = None,
    *,
    callback: ProgressCallback | None = None,
    on_tile: TileCallback | None = None,
    start: np.ndarray | None = None,
    temporal: TemporalTarget | None = None,
    **settings: Any,
) -> Result:
    """Repaint ``content`` in the style of ``style``.

    ``content`` and ``style`` are paths, PIL images or (H, W, 3) arrays; ``style`` may be a
    list of them, blended by ``style_blend``. Settings are the fields of :class:`nst.Options`,
    given as an ``Options`` or as keywords (``stylize("photo.jpg", "painting.jpg", size=256,
    steps=100)``). ``callback`` is called after every step with a :class:`Progress`. A size too
    large for memory in one piece is run in tiles (``max_memory``, ``tile``, ``halo``); then
    ``on_tile(size, done, passes)`` is called as each tile of a step is done: a step sees each tile
    twice, forward for the losses and then backward for the gradient (sizes count from 1).

    With ``preserve_colors="luminance"`` the optimisation and the report's losses are about
    luminance images; the returned picture has the photo's colours.

    Video frames (:mod:`nst.video`) also give ``start``, an (H, W, 3) image the run starts
    from instead of ``init``, and ``temporal``, a term added to the objective at the output
    size; both are in the optimised image's terms (luminance under ``"luminance"``).
    """
    started = _clock()
    options = dataclasses.replace(options or Options(), **settings)
    inputs = _Inputs.open(content, style, options)
    return _Run(options, inputs, callback, started, on_tile, start, temporal).run()


@dataclass
class _Inputs:
    """The photo and paintings as given (for the report) and opened, at their own sizes."""

    content: ImageSource
    styles: list[ImageSource]
    photo: Image.Image
    alpha: Image.Image | None  # the photo's transparency, given back with the result
    paintings: list[Image.Image]

    @classmethod
    def open(cls, content: ImageSource, style: ImageSource | Sequence[ImageSource], options: Options) -> _Inputs:
        """Opens the images and refuses, before anything is resized or loaded, a run whose
        weights or masks do not match the paintings or whose sizes would not fit in memory."""
        styles = _as_list(style)
        photo, alpha = open_image_with_alpha(content)
        paintings = [open_image(source) for source in styles]
        options.blend_weights(len(styles))
        options.check_style_masks(len(styles))
        width, height = fitted_size(photo.size, options.size, describe(content))
        painting_sizes = [
            fitted_size(painting.size, options.painting_side(), describe(source))
            for painting, source in zip(paintings, styles, strict=True)
        ]
        check_memory(options, height, width, painting_sizes)
        return cls(content, styles, photo, alpha, paintings)

    def shapes(self, sizes: list[int], options: Options) -> list[tuple[tuple[int, int], list[tuple[int, int]]]]:
        """For each size of the ladder, by arithmetic: the photo's (height, width) and the
        paintings' (width, height), as :meth:`at_size` will make them."""
        shapes = []
        for index, size in enumerate(sizes):
            width, height = fitted_size(self.photo.size, size, describe(self.content))
            side = options.painting_side(size)
            paintings = [
                fitted_size(painting.size, _painting_side(painting, side, index == 0), describe(source))
                for painting, source in zip(self.paintings, self.styles, strict=True)
            ]
            shapes.append(((height, width), paintings))
        return shapes

    def at_size(self, size: int, painting_side: int, enlarge: bool = True) -> tuple[np.ndarray, list[np.ndarray]]:
        """The photo with ``size`` as its longer side, and the paintings with ``painting_side``;
        without ``enlarge``, a painting smaller than that keeps its own size."""
        photo = to_array(resize_longest_side(self.photo, size, describe(self.content)))
        paintings = [
            to_array(resize_longest_side(painting, _painting_side(painting, painting_side, enlarge), describe(source)))
            for painting, source in zip(self.paintings, self.styles, strict=True)
        ]
        return photo, paintings


@dataclass
class _Size:
    """One size of the ladder, ready to run: what its image is compared with, where it starts,
    how it is shown, and what its steps have seen so far."""

    index: int
    objective: Objective
    start: np.ndarray
    shown: Callable[[np.ndarray], np.ndarray]
    should_step: Callable[[], bool]
    resumed_state: dict[str, np.ndarray] | None
    # The last image whose loss was finite, and the image that will be once the next loss is seen:
    # on the device, fetched only if the run stops early.
    last_finite: Callable[[], np.ndarray]
    candidate: Callable[[], np.ndarray]
    options: Options  # the run's, with the L-BFGS pairs that fit at this size
    state: Callable[[], dict[str, np.ndarray]] | None = None  # the optimizer's state, latest


class _Run:
    """One call of :func:`stylize`, read top to bottom in :meth:`run`: plan the sizes and
    steps, run each size, report. It owns the plan, the history and the checkpoints."""

    def __init__(
        self,
        options: Options,
        inputs: _Inputs,
        callback: ProgressCallback | None,
        started: float,
        on_tile: TileCallback | None = None,
        start: np.ndarray | None = None,
        temporal: TemporalTarget | None = None,
    ) -> None:
        self.options, self.inputs, self.callback, self.started = options, inputs, callback, started
        self.on_tile = on_tile
        self.start, self.temporal = start, temporal  # a video frame's (nst.video)
        self.sizes_done: list[dict[str, Any]] = []
        self.sizes = options.scale_sizes()
        shapes = inputs.shapes(self.sizes, options)
        steps = options.steps_per_size() if options.time_budget is None else [None] * len(self.sizes)
        self.memory = [
            plan_size(options, *shape, paintings, steps=planned)
            for (shape, paintings), planned in zip(shapes, steps, strict=True)
        ]
        work = [_work(options, memory, shape) for memory, (shape, _) in zip(self.memory, shapes, strict=True)]
        self.plan = _Plan(options, self.sizes, started, work)
        self.resumed = _load_resumed(
            options, [memory.optimizer if memory else options.optimizer for memory in self.memory]
        )
        self.history: list[dict[str, Any]] = self.resumed.history if self.resumed else []

    def run(self) -> Result:
        load_vgg19(self.options.resolved_weights())  # once per process: not a cost of each size
        pixels = None
        for index, size in enumerate(self.sizes):
            if self.resumed is not None and index < self.resumed.scale:  # done before the checkpoint
                self.plan.skip_scale(self.resumed.steps_per_scale[index])
                continue
            began = _clock()
            stage = None  # the previous size's objective and optimizer state go before the next's arrive
            gc.collect()  # they refer to themselves (compiled functions of bound methods): cycles
            stage = self.prepare_size(index, size, pixels)
            pixels = self.run_size(stage)
            self.sizes_done[-1].update(
                steps=self.plan.steps_per_scale[index], seconds=round(_clock() - began, 1), peak_mb=_peak_mb()
            )
        return self.finish(stage, pixels)

    def prepare_size(self, index: int, size: int, previous: np.ndarray | None) -> _Size:
        """The targets of one size and its starting image: the checkpoint's, the initial
        image, or the previous size's result enlarged."""
        self.plan.begin_scale()
        # The first size sets the painting's strokes against the picture; the larger sizes add
        # detail, and never from a painting enlarged past its own pixels into a blurred target.
        photo, paintings = self.inputs.at_size(size, self.options.painting_side(size), enlarge=index == 0)
        target, paintings = _color_inputs(photo, paintings, self.options.preserve_colors)
        masks, region = _masks(self.options, photo.shape)
        memory = self.memory[index]
        if memory is None:  # the output size fitted when the run was checked; a smaller one fits too
            raise NstError(f"{size} px does not fit in {memory_limit(self.options):.0f} MB")
        options = dataclasses.replace(self.options, optimizer=memory.optimizer, lbfgs_history=memory.lbfgs_history)
        if memory.optimizer != self.options.optimizer:  # Adam for memory, on a picture already painted
            options = dataclasses.replace(options, learning_rate=DETAIL_LEARNING_RATE)
        # A video frame's temporal term, at the output size; passed only when there is one.
        temporal = {"temporal": self.temporal} if self.temporal and index == len(self.sizes) - 1 else {}
        if memory.tile is None:
            objective = Objective(target, paintings, options, masks, **temporal)
        else:
            on_tile = None if self.on_tile is None else functools.partial(self.on_tile, index + 1)
            objective = TiledObjective(
                target, paintings, options, masks, **temporal, tile=memory.tile, halo=options.halo, on_tile=on_tile
            )
        self.sizes_done.append(_size_entry(size, photo.shape, memory, objective))
        resumed = self.resumed if self.resumed is not None and index == self.resumed.scale else None
        if resumed is not None:
            start = _resumed_image(resumed, options, target.shape)
        elif previous is None and self.start is not None:
            start = _resize(self.start, target.shape)
        elif previous is None:
            start = _initial_image(target, paintings, options)
        else:
            start = _resize(previous, target.shape)
        should_step = self.plan.start_scale(index, resumed.steps_per_scale[index] if resumed else 0)
        shown = _presented(photo, options.preserve_colors, region)
        kept = functools.partial(np.asarray, start)
        return _Size(
            index, objective, start, shown, should_step, resumed.state if resumed else None, kept, kept, options
        )

    def run_size(self, size: _Size) -> np.ndarray:
        """Optimises one size. Ctrl-C or a loss that is no longer finite ends the run with the
        picture so far (and a checkpoint, when asked for)."""
        optimize = OPTIMIZERS[size.options.optimizer]
        on_step = functools.partial(self.on_step, size)
        try:
            return optimize(size.objective, size.start, size.options, size.should_step, on_step, size.resumed_state)
        except (KeyboardInterrupt, _NotFinite) as stop:
            raise self.stopped(size, stop) from None

    def on_step(
        self,
        size: _Size,
        losses: dict[str, float],
        current: Callable[[], np.ndarray],
        state: Callable[[], dict[str, np.ndarray]],
    ) -> None:
        """After each step: the plan, the checkpoint, the history and the callback."""
        options = self.options
        step = self.plan.record_step()
        if not all(math.isfinite(value) for value in losses.values()):
            raise _NotFinite(step, losses["total"])
        size.last_finite, size.candidate = size.candidate, current
        size.state = state
        if options.checkpoint and step % options.checkpoint_every == 0:
            self.checkpoint(state, size.options.optimizer)
        elapsed = _clock() - self.started
        if (step - 1) % options.history_every == 0:
            self.history.append(_history_entry(step - 1, elapsed, losses, size.index + 1))
        if self.callback is not None:
            image = functools.partial(_apply, size.shown, current)  # computed only when asked for
            progress = Progress(
                step, self.plan.total_steps(), elapsed, losses, size.index + 1, len(self.sizes), options.time_budget,
                image, self.plan.remaining_s(),
            )  # fmt: skip
            self.callback(progress)

    def stopped(self, size: _Size, stop: BaseException) -> BaseException:
        """What a run that stopped early raises: it carries the last picture whose loss was finite."""
        if self.options.checkpoint and size.state is not None:  # what was done so far is kept
            self.checkpoint(size.state, size.options.optimizer)
        so_far = size.shown(size.last_finite())
        result = Result(so_far, self.report(so_far, None), self.inputs.alpha)
        if isinstance(stop, KeyboardInterrupt):
            return Interrupted(result)
        return StoppedEarly(
            f"the loss became {stop.value} at step {stop.step} (a smaller --learning-rate or loss weights may"
            " help); the picture from the last finite step is kept",
            result,
        )

    def finish(self, size: _Size, pixels: np.ndarray) -> Result:
        """The final evaluation and the finished run's report: the one place ``final`` is made."""
        final = size.objective.evaluate(pixels)  # the last size is the output size: this is the objective
        self.history.append(_history_entry(self.plan.steps_done, _clock() - self.started, final, len(self.sizes)))
        pixels = size.shown(pixels)
        # A ladder's larger sizes never enlarge a painting past its own pixels: nor does the measure
        # of speckle, whose yardstick is the painting's grain as the objective saw it.
        enlarge = len(self.sizes) == 1
        final.update(picture_measures(pixels, self.inputs.photo, self.inputs.paintings, enlarge_paintings=enlarge))
        return Result(pixels, self.report(pixels, final), self.inputs.alpha)

    def report(self, pixels: np.ndarray, final: dict[str, float] | None) -> dict[str, Any]:
        """The report of the run; ``final`` is None for a run that stopped early."""
        return {
            "params": _params(self.options, self.inputs.content, self.inputs.styles, pixels.shape),
            "history": self.history,
            "final": final,
            "steps_per_scale": self.plan.steps_per_scale,
            "sizes": self.sizes_done,
            "wall_s": round(_clock() - self.started, 3),
        }

    def checkpoint(self, state: Callable[[], dict[str, np.ndarray]], optimizer: str) -> None:
        checkpoint = Checkpoint(state(), list(self.plan.steps_per_scale), list(self.history), optimizer)
        save_checkpoint(self.options.checkpoint, checkpoint)


def reproduce(
    path: str | os.PathLike,
    content: ImageSource | None = None,
    style: ImageSource | Sequence[ImageSource] | None = None,
    *,
    callback: ProgressCallback | None = None,
) -> Result:
    """Run again the run that made the PNG at ``path``, from the parameters stored in it.

    The photo and paintings are read from the paths stored, unless given here (if they moved)."""
    params = read_params(path)
    options = Options.for_reproduction(params)
    return stylize(content or params["content"], style or params["style"], options, callback=callback)


def score(
    image: ImageSource,
    content: ImageSource,
    style: ImageSource | Sequence[ImageSource],
    options: Options | None = None,
) -> dict[str, float]:
    """The losses (``content``, ``style``, ``tv``, ``total``) of any image under ``options``,
    and its picture measures (``grid``, ``noise``: :func:`picture_measures`).

    The image is scored at ``options.size`` (its longer side); the photo is resized to the
    image's exact shape so that their features line up. Under ``preserve_colors="luminance"``
    the image's luminance is scored, as the run optimised it."""
    options = options or Options()
    styles = _as_list(style)
    scored = _Inputs.open(image, styles, options)  # sizes are checked before anything is resized
    pixels, paintings = scored.at_size(options.size, options.painting_side())
    shown = pixels
    height, width = pixels.shape[:2]
    photo_image = open_image(content)
    photo = to_array(photo_image.resize((width, height), Image.Resampling.LANCZOS))
    target, paintings = _color_inputs(photo, paintings, options.preserve_colors)
    if options.preserve_colors == "luminance":
        pixels = colors.luminance_image(pixels)
    masks, _ = _masks(options, photo.shape)
    losses = Objective(target, paintings, options, masks).evaluate(pixels)
    return {**losses, **picture_measures(shown, photo_image, scored.paintings)}


class _Plan:
    """How many steps each scale takes: fixed counts, or shares of a time budget.

    Under a budget, time is measured as the run goes: the cost of a step (per pixel, carried to
    the next scale) and the fixed cost of a scale (its targets and compiling its step). Each
    scale gets the part of the remaining time that its planned steps (``coarse_steps`` or
    ``steps``) would cost, after the fixed costs of the later scales and the final evaluation
    are set aside; a step starts only if it should end before the scale's deadline."""

    def __init__(self, options: Options, sizes: list[int], started: float, work: list[float]) -> None:
        self.sizes = sizes
        self.work = work  # the pixels VGG19 goes through in a step of each size (tiles: more than the image's)
        self.planned = options.steps_per_size()
        self.deadline = None if options.time_budget is None else started + options.time_budget
        self.steps_done = 0
        self.steps_per_scale: list[int] = []
        self.seconds_per_pixel = _PRIOR_SECONDS_PER_PIXEL
        self.scale_overhead = _PRIOR_SCALE_OVERHEAD_S
        self.scale_began = started

    def begin_scale(self) -> None:
        """Called before a scale's targets are computed."""
        self.scale_began = _clock()
        self.last_step_ended: float | None = None

    def skip_scale(self, done: int) -> None:
        """Called for a scale a resumed run had finished before its checkpoint."""
        self.steps_per_scale.append(done)
        self.steps_done += done

    def start_scale(self, index: int, done: int = 0) -> Callable[[], bool]:
        """Called once the targets are ready (``done``: steps a resumed run has already taken);
        returns the scale's ``should_step``."""
        self.index = index
        self.pixels = self.work[index]
        self.steps_per_scale.append(done)
        self.steps_done += done
        if self.deadline is None:
            return lambda: self.steps_per_scale[index] < self.planned[index]
        later_pixels = self.work[index + 1 :]
        work = [
            steps * self._step_cost(pixels)
            for steps, pixels in zip(self.planned[index:], [self.pixels, *later_pixels], strict=True)
        ]
        # The final evaluation is a forward pass only: about a third of a step, 0.4 to be safe.
        self.reserve = 0.4 * self._step_cost(later_pixels[-1] if later_pixels else self.pixels)
        self.later_pixels = later_pixels
        self.share = work[0] / sum(work) if sum(work) > 0 else 1.0
        self._plan_scale_deadline(_clock())
        return self._time_allows

    def _plan_scale_deadline(self, now: float) -> None:
        if not self.later_pixels:
            self.scale_deadline = self.deadline - self.reserve
            return
        remaining = self.deadline - self.reserve - len(self.later_pixels) * self.scale_overhead - now
        self.scale_deadline = now + max(0.0, remaining) * self.share

    def _step_cost(self, pixels: float) -> float:
        return self.seconds_per_pixel * pixels

    def _time_allows(self) -> bool:
        now = _clock()
        if self.steps_per_scale[self.index] == 0:
            # The first step also compiles: start it if it fits at all, or the targets were for nothing.
            return now + self.scale_overhead / 2 + self._step_cost(self.pixels) <= self.deadline - self.reserve
        return now + self._step_cost(self.pixels) <= self.scale_deadline

    def record_step(self) -> int:
        """Called after each step; measures the costs under a budget."""
        now = _clock()
        done = self.steps_per_scale[self.index]
        if self.last_step_ended is not None and done >= 1:
            measured = (now - self.last_step_ended) / self.pixels
            self.seconds_per_pixel = measured if done == 1 else 0.8 * self.seconds_per_pixel + 0.2 * measured
        if done == 1:
            # Targets plus compiling: the first step's extra time over a normal one, seen on the second.
            first_step = self.last_step_ended - self.scale_began
            self.scale_overhead = max(0.0, first_step - self._step_cost(self.pixels))
            if self.deadline is not None:
                # Compiling (seconds with XLA) is paid and measured: share out what is really left.
                self._plan_scale_deadline(now)
        self.last_step_ended = now
        self.steps_done += 1
        self.steps_per_scale[self.index] += 1
        return self.steps_done

    def remaining_s(self) -> float:
        """The time left: the steps planned at this size and the larger ones, or the budget's."""
        if self.deadline is not None:
            return max(0.0, self.deadline - _clock())
        left = max(0, self.planned[self.index] - self.steps_per_scale[self.index]) * self._step_cost(self.pixels)
        later = zip(self.planned[self.index + 1 :], self.work[self.index + 1 :], strict=True)
        left += sum(steps * self._step_cost(pixels) + self.scale_overhead for steps, pixels in later)
        return left + 0.4 * self._step_cost(self.work[-1])  # and the final evaluation, a forward pass

    def total_steps(self) -> int:
        if self.deadline is None:
            return sum(self.planned)
        remaining = max(0.0, self.deadline - _clock())
        return self.steps_done + round(remaining / self._step_cost(self.pixels))


def picture_measures(
    pixels: np.ndarray,
    content: ImageSource,
    style: ImageSource | Sequence[ImageSource],
    *,
    enlarge_paintings: bool = True,
) -> dict[str, float]:
    """``grid`` and ``noise`` of a picture (H, W, 3), against the photo at its size and the
    paintings with its longer side (see :mod:`nst.media.measures`); without ``enlarge_paintings``,
    a painting smaller than that keeps its own size, as a print's larger sizes keep it."""
    height, width = pixels.shape[:2]
    photo_array = to_array(open_image(content).resize((width, height), Image.Resampling.LANCZOS))
    paintings = [open_image(painting) for painting in _as_list(style)]
    painting_arrays = [
        to_array(resize_longest_side(painting, _painting_side(painting, max(height, width), enlarge_paintings)))
        for painting in paintings
    ]
    return measures.picture_measures(pixels, photo_array, painting_arrays)


def _initial_image(content: np.ndarray, styles: list[np.ndarray], options: Options) -> np.ndarray:
    if options.init == "content":
        return content.copy()
    if options.init == "noise":
        return np.random.default_rng(options.seed).uniform(0.0, 1.0, content.shape).astype(np.float32)
    if options.init == "style-mean":
        blend = options.blend_weights(len(styles))
        color = sum(weight * painting.mean(axis=(0, 1)) for weight, painting in zip(blend, styles, strict=True))
        return np.broadcast_to(color, content.shape).astype(np.float32)
    height, width = content.shape[:2]  # an image file, stretched to the output's shape
    return to_array(open_image(options.init).resize((width, height), Image.Resampling.LANCZOS))


def _color_inputs(
    photo: np.ndarray, paintings: list[np.ndarray], preserve_colors: str | None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The images the objective compares with, given how the photo's colours are kept."""
    if preserve_colors == "histogram":
        return photo, [colors.match_color_histogram(painting, photo) for painting in paintings]
    if preserve_colors == "luminance":
        return colors.luminance_image(photo), [colors.luminance_image(painting, like=photo) for painting in paintings]
    return photo, paintings


def _presented(
    photo: np.ndarray, preserve_colors: str | None, mask: np.ndarray | None
) -> Callable[[np.ndarray], np.ndarray]:
    """What turns the optimised image into the picture shown: under ``luminance`` its
    luminance with the photo's colours; with a mask, the photo where the mask is black."""

    def present(pixels: np.ndarray) -> np.ndarray:
        if preserve_colors == "luminance":
            pixels = colors.with_colors_of(pixels, photo)
        if mask is not None:
            pixels = (mask[..., np.newaxis] * pixels + (1 - mask[..., np.newaxis]) * photo).astype(np.float32)
        return pixels

    return present


def load_mask(source: ImageSource, shape: tuple[int, ...]) -> np.ndarray:
    """A mask image as (H, W) floats in [0, 1] (white 1), stretched to ``shape``'s height and width."""
    grey = open_image(source).convert("L").resize((shape[1], shape[0]), Image.Resampling.BILINEAR)
    return np.asarray(grey, dtype=np.float32) / 255.0


class _NotFinite(Exception):
    def __init__(self, step: int, value: float) -> None:
        self.step, self.value = step, value


def _load_resumed(options: Options, optimizers: list[str]) -> Checkpoint | None:
    """The checkpoint to resume from, if it fits this run's ladder of sizes and the optimizer of
    its size (``optimizers``: each size's)."""
    if not options.resume:
        return None
    resumed = load_checkpoint(options.resume)
    scales = len(optimizers)
    if resumed.scale >= scales:
        raise NstError(f"{options.resume}: made at scale {resumed.scale + 1}, but this run has {scales} (--scales)")
    if resumed.optimizer != optimizers[resumed.scale]:
        raise NstError(f"{options.resume}: a checkpoint of {resumed.optimizer}, not {optimizers[resumed.scale]}")
    return resumed


def _resumed_image(resumed: Checkpoint, options: Options, shape: tuple[int, ...]) -> np.ndarray:
    image = resumed.state["image"]
    if image.shape != shape:
        height, width = shape[:2]
        raise NstError(
            f"{options.resume}: a checkpoint of a {image.shape[1]}x{image.shape[0]} image, but this run's is"
            f" {width}x{height} (resume with the options and photo it was made with)"
        )
    return image


def _masks(options: Options, shape: tuple[int, ...]) -> tuple[list[np.ndarray] | None, np.ndarray | None]:
    """The style loss's masks (one per painting, one for all, or None) and the --mask region."""
    region = load_mask(options.mask, shape) if options.mask else None
    if options.style_masks:
        return [load_mask(path, shape) for path in options.style_masks], region
    return (None if region is None else [region]), region


def _apply(shown: Callable[[np.ndarray], np.ndarray], current: Callable[[], np.ndarray]) -> np.ndarray:
    return shown(current())


def _as_list(style: ImageSource | Sequence[ImageSource]) -> list[ImageSource]:
    return list(style) if isinstance(style, (list, tuple)) else [style]


def _resize(pixels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The previous scale's result, brought to the next scale's size (bicubic, clipped): by
    Pillow, so that every backend starts the next scale from the same image."""
    size = (shape[1], shape[0])
    channels = [Image.fromarray(pixels[..., channel]).resize(size, Image.Resampling.BICUBIC) for channel in range(3)]
    return np.clip(np.stack([np.asarray(channel) for channel in channels], axis=-1), 0.0, 1.0)


def _peak_mb() -> float | None:
    """The process's peak resident memory so far, in MB (None where the system does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if platform.system() == "Darwin" else 2**10))  # bytes on macOS, KiB on Linux


def _painting_side(painting: Image.Image, side: int, enlarge: bool) -> int:
    return side if enlarge else min(side, max(painting.size))


def _work(options: Options, memory: SizePlan | None, shape: tuple[int, int]) -> float:
    """The pixels VGG19 goes through in one step: the image's; in tiles, each tile's crop twice,
    forward for the sums and then forward and backward (a forward pass costs about a third)."""
    if memory is None or memory.tile is None:
        return float(shape[0] * shape[1])
    tiling = Tiling(shape, memory.tile, options.halo, alignment(options))
    return 4 / 3 * len(tiling) * tiling.crop[0] * tiling.crop[1]


def _size_entry(size: int, shape: tuple[int, ...], memory: SizePlan, objective: Objective) -> dict[str, Any]:
    """What the report says of one size: how it was run, in one piece or in tiles."""
    tiles = len(objective.tiling) if isinstance(objective, TiledObjective) else 1
    halo = objective.halo if isinstance(objective, TiledObjective) else None
    return {
        "size": size,
        "shape": [shape[1], shape[0]],
        "tile": memory.tile,
        "halo": halo,
        "tiles": tiles,
        "optimizer": memory.optimizer,
        "lbfgs_history": memory.lbfgs_history,
        "estimate_mb": round(memory.estimate_mb),
    }


def _history_entry(step: int, elapsed: float, losses: dict[str, float], scale: int) -> dict[str, Any]:
    return {
        "step": step,
        "elapsed_s": round(elapsed, 3),
        **{name: losses[name] for name in ("total", "content", "style")},
        "scale": scale,
    }


def _params(
    options: Options, content: ImageSource, styles: list[ImageSource], shape: tuple[int, ...]
) -> dict[str, Any]:
    return {
        **options.as_dict(),
        "weights": options.resolved_weights(),
        "content": describe(content),
        "style": [describe(source) for source in styles] if len(styles) > 1 else describe(styles[0]),
        "output_size": [shape[1], shape[0]],
        "scale_sizes": options.scale_sizes(),
        "backend": backend.name(),
        "device": backend.device(),
        "versions": {
            "nst": __version__,
            backend.name(): backend.library_version(),
            "keras": keras.__version__,
            "numpy": np.__version__,
            "pillow": PIL.__version__,
            "python": platform.python_version(),
        },
    }
