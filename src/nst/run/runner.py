"""One call of :func:`nst.stylize`, read top to bottom in :meth:`Run.run`: plan the sizes and
their steps, run each size of the ladder with its optimizer, report. A checkpoint, a time budget
and the progress callback each hook into this one loop."""

from __future__ import annotations

import dataclasses
import functools
import gc
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nst.core.adam import run_adam
from nst.core.features import load_vgg19
from nst.core.lbfgs import run_lbfgs
from nst.core.objective import Objective, TemporalTarget
from nst.core.optimizers import CompiledSteps
from nst.core.tiles import TiledObjective
from nst.errors import Interrupted, NstError, StoppedEarly, WorkersLost
from nst.media import textures
from nst.media.images import NstWarning
from nst.options import Options
from nst.run import ladder, plan
from nst.run.checkpoints import Checkpoint, checkpoint_to_resume, save_checkpoint
from nst.run.cluster import Workers
from nst.run.inputs import Inputs, compared_images, load_masks, presented
from nst.run.memory import memory_limit, plan_size
from nst.run.progress import ProgressCallback, TileCallback
from nst.run.report import dropped_entry, history_entry, memory_peaks, params, picture_measures, size_entry
from nst.run.result import Result
from nst.run.sizes import enlarged, starting_image, step_work
from nst.run.tile_workers import TileWorkers

# Adam's learning rate where memory leaves no room for L-BFGS at a print's larger sizes: at 768 px
# from an enlarged 384 px picture, 12 steps at 0.02 add speckle (noise 1.40); 0.005 does not
# (0.77) and gets 6.6 times lower (L-BFGS: 14.6 times; docs/print.md).
DETAIL_LEARNING_RATE = 0.005
# The optimizers by name (Options.optimizer); benchmarks/lbfgs.py puts other ones in to compare.
OPTIMIZERS = {"lbfgs": run_lbfgs, "adam": run_adam}
# The process's L-BFGS steps, kept for its later runs of the same sizes and settings (the web app's
# next job, a batch worker's next item, a notebook's next call), which then start without tracing
# and compiling them. L-BFGS's kept step holds no image (Adam's holds three, whose memory no later
# run's plan counts: those are freed with their run). As many as a print's ladder has sizes.
KEPT_LBFGS_STEPS = CompiledSteps(capacity=8)
# A finished size's objective and optimizer state refer to themselves (compiled functions of bound
# methods): only the cycle collector frees them. It runs where what it frees matters to a memory plan:
# after a size of this many px or more (its L-BFGS state alone is about 40 images, 90 MB at 512x384)
# or in tiles, before anything else is allocated (the next size, or the caller's next run); and before
# a size in tiles. A full collection scans every object of the process: 0.2 s in a fresh one, more in
# a long-lived one (a server, a notebook, a clip's every frame), for a few MB after a small size.
COLLECTED_FROM_SIZE = 512


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


class Run:
    """One call of :func:`stylize`, read top to bottom in :meth:`run`: plan the sizes and
    steps, run each size, report. It owns the plan, the history and the checkpoints."""

    def __init__(
        self,
        options: Options,
        inputs: Inputs,
        callback: ProgressCallback | None,
        started: float,
        on_tile: TileCallback | None = None,
        start: np.ndarray | None = None,
        temporal: TemporalTarget | None = None,
        compiled_steps: CompiledSteps | None = None,
        workers: Workers | TileWorkers | None = None,
    ) -> None:
        self.options, self.inputs, self.callback, self.started = options, inputs, callback, started
        # Where a tiled size's tiles run: Ray's workers (started at the first tiled size, unless
        # given started), or this process.
        self.workers = workers
        self.tile_workers = workers if isinstance(workers, TileWorkers) else None
        self.on_tile = on_tile
        self.start, self.temporal = start, temporal  # a video frame's (nst.run.video)
        self.compiled_steps = compiled_steps  # kept from earlier runs (a clip's frames), and for later ones
        self.sizes_done: list[dict[str, Any]] = []
        self.sizes = ladder.scale_sizes(options)
        shapes = inputs.shapes(self.sizes, options)
        self.shapes = [shape for shape, _ in shapes]
        steps = ladder.steps_per_size(options) if options.time_budget is None else [None] * len(self.sizes)
        if compiled_steps is not None:  # runs that share their steps share their shapes: as many pairs as any keeps
            steps = [None] * len(self.sizes)
        self.memory = [
            plan_size(options, *shape, paintings, steps=planned)
            for (shape, paintings), planned in zip(shapes, steps, strict=True)
        ]
        work = [step_work(options, memory, shape) for memory, (shape, _) in zip(self.memory, shapes, strict=True)]
        self.plan = plan.Plan(options, self.sizes, started, work)
        self.resumed = checkpoint_to_resume(
            options, [memory.optimizer if memory else options.optimizer for memory in self.memory]
        )
        self.history: list[dict[str, Any]] = self.resumed.history if self.resumed else []

    def run(self) -> Result:
        try:
            return self._run()
        finally:
            self._collect_garbage()
            if self.tile_workers is not None and self.tile_workers is not self.workers:  # started here
                self.tile_workers.close()

    def _run(self) -> Result:
        load_vgg19(self.options.resolved_weights())  # once per process: not a cost of each size
        pixels = None
        for index, size in enumerate(self.sizes):
            if self.resumed is not None and index < self.resumed.scale:  # done before the checkpoint
                self.plan.skip_scale(self.resumed.steps_per_scale[index])
                continue
            reason = self.plan.drop_reason(index)
            if reason is not None:  # the budget cannot finish it: never given a step or two
                self.sizes_done.append(dropped_entry(size, self.shapes[index], self.memory[index], reason))
                warnings.warn(f"the time budget cannot finish {size} px ({reason}); a longer --time-budget runs it",
                              NstWarning, stacklevel=2)  # fmt: skip
                continue
            began = plan.clock()
            stage = None  # the previous size's objective and optimizer state go before the next's arrive
            self._collect_garbage(index)
            stage = self.prepare_size(index, size, pixels)
            pixels = self.run_size(stage)
            self.sizes_done[-1].update(
                steps=self.plan.steps_per_scale[index], seconds=round(plan.clock() - began, 1), **memory_peaks()
            )
        return self.finish(stage, pixels)

    def _collect_garbage(self, next_index: int | None = None) -> None:
        """Frees what the sizes run so far left where it can matter (:data:`COLLECTED_FROM_SIZE`):
        after a large size or one in tiles, and before one in tiles (``next_index``)."""
        last = self.sizes_done[-1] if self.sizes_done else None
        left = last is not None and (last["tile"] is not None or last["size"] >= COLLECTED_FROM_SIZE)
        tiled_next = next_index is not None and getattr(self.memory[next_index], "tile", None) is not None
        if left or tiled_next:
            gc.collect()

    def prepare_size(self, index: int, size: int, previous: np.ndarray | None) -> _Size:
        """The targets of one size and its starting image: the checkpoint's, the initial
        image, or the previous size's result enlarged."""
        self.plan.begin_scale()
        photo, target, paintings, masks, region = self.images(index, size)
        memory = self.memory[index]
        if memory is None:  # the output size fitted when the run was checked; a smaller one fits too
            raise NstError(f"{size} px does not fit in {memory_limit(self.options):.0f} MB")
        options = dataclasses.replace(
            self.options,
            optimizer=memory.optimizer,
            lbfgs_history=memory.lbfgs_history,
            jit_compile=ladder.compiles(self.options, index, tiled=memory.tile is not None),
        )
        if memory.optimizer != self.options.optimizer:  # Adam for memory, on a picture already painted
            options = dataclasses.replace(options, learning_rate=DETAIL_LEARNING_RATE)
        # A video frame's temporal term, at the output size; passed only when there is one.
        temporal = {"temporal": self.temporal} if self.temporal and index == len(self.sizes) - 1 else {}
        if memory.tile is None:
            objective = Objective(target, paintings, options, masks, **temporal, painting_tile=memory.painting_tile)
        else:
            on_tile = None if self.on_tile is None else functools.partial(self.on_tile, index + 1)
            objective = TiledObjective(
                target, paintings, options, masks, **temporal, tile=memory.tile, halo=options.halo, on_tile=on_tile,
                workers=self.tile_runner(),
            )  # fmt: skip
        self.sizes_done.append(size_entry(size, photo.shape, memory, objective))
        resumed = self.resumed if self.resumed is not None and index == self.resumed.scale else None
        start = starting_image(target, paintings, options, resumed, previous, self.start)
        should_step = self.plan.start_scale(index, resumed.steps_per_scale[index] if resumed else 0)
        shown = presented(photo, options.preserve_colors, region)
        kept = functools.partial(np.asarray, start)
        return _Size(
            index, objective, start, shown, should_step, resumed.state if resumed else None, kept, kept, options
        )

    def tile_runner(self) -> Callable | None:
        """What runs the tiles on Ray's workers (:meth:`TileWorkers.runner`), started the first time
        a size runs in tiles; None where they run here (no workers, or one and no cluster)."""
        if self.workers is None or (isinstance(self.workers, Workers) and self.workers.local):
            return None
        if self.tile_workers is None:
            self.tile_workers = TileWorkers(self.workers, self.options.resolved_weights())
        return self.tile_workers.runner

    def images(self, index: int, size: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list, np.ndarray | None]:
        """The photo at a size of the ladder, what the picture is compared with (the photo, the
        paintings), the masks and the stylized region."""
        # The first size sets the painting's strokes against the picture; the larger sizes add
        # detail, and never from a painting enlarged past its own pixels into a blurred target.
        photo, paintings = self.inputs.at_size(size, ladder.painting_side(self.options, size), enlarge=index == 0)
        if self.options.tileable:  # held to, and started from, a photo that wraps around as the picture will
            photo = textures.wrapped(photo)
        target, paintings = compared_images(photo, paintings, self.options.preserve_colors)
        masks, region = load_masks(self.options, photo.shape)
        return photo, target, paintings, masks, region

    def run_size(self, size: _Size) -> np.ndarray:
        """Optimises one size. Ctrl-C or a loss that is no longer finite ends the run with the
        picture so far (and a checkpoint, when asked for)."""
        optimize = OPTIMIZERS[size.options.optimizer]
        on_step = functools.partial(self.on_step, size)
        kept = self.compiled_steps
        if kept is None and size.options.optimizer == "lbfgs":
            kept = KEPT_LBFGS_STEPS
        try:
            return optimize(
                size.objective, size.start, size.options, size.should_step, on_step, size.resumed_state,
                compiled_steps=kept,
            )  # fmt: skip
        except (KeyboardInterrupt, _NotFinite) as stop:
            raise self.stopped(size, stop) from None
        except WorkersLost as lost:
            if not self.options.checkpoint or size.state is None:
                raise
            self.checkpoint(size.state, size.options.optimizer)
            raise WorkersLost(f"{lost}; the run so far is in {self.options.checkpoint}") from None

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
        elapsed = plan.clock() - self.started
        if (step - 1) % options.history_every == 0:
            self.history.append(history_entry(step - 1, elapsed, losses, size.index + 1))
        if self.callback is not None:
            image = functools.partial(_apply, size.shown, current)  # computed only when asked for
            self.callback(self.plan.progress(losses, image))

    def stopped(self, size: _Size, stop: BaseException) -> BaseException:
        """What a run that stopped early raises: it carries the last picture whose loss was finite."""
        if self.options.checkpoint and size.state is not None:  # what was done so far is kept
            self.checkpoint(size.state, size.options.optimizer)
        so_far = size.shown(size.last_finite())
        result = Result(so_far, self.report(so_far, None), self.inputs.alpha, self.inputs.bits)
        if isinstance(stop, KeyboardInterrupt):
            return Interrupted(result)
        return StoppedEarly(
            f"the loss became {stop.value} at step {stop.step} (a smaller --learning-rate or loss weights may"
            " help); the picture from the last finite step is kept",
            result,
        )

    def finish(self, size: _Size, pixels: np.ndarray) -> Result:
        """The final evaluation and the finished run's report: the one place ``final`` is made."""
        final = size.objective.evaluate(pixels)  # the last size run's objective: the output size's, unless dropped
        self.history.append(history_entry(self.plan.steps_done, plan.clock() - self.started, final, size.index + 1))
        shown = size.shown
        if size.index < len(self.sizes) - 1:  # the budget dropped the larger sizes: this picture, enlarged
            final["losses_at"] = self.sizes[size.index]
            photo, target, _, _, region = self.images(len(self.sizes) - 1, self.sizes[-1])
            pixels = enlarged(pixels, target, self.options)
            shown = presented(photo, self.options.preserve_colors, region)
        pixels = shown(pixels)
        # A ladder's larger sizes never enlarge a painting past its own pixels: nor does the measure
        # of speckle, whose yardstick is the painting's grain as the objective saw it.
        enlarge = len(self.sizes) == 1
        final.update(picture_measures(pixels, self.inputs.photo, self.inputs.paintings, enlarge_paintings=enlarge,
                                      tileable=self.options.tileable))  # fmt: skip
        return Result(pixels, self.report(pixels, final), self.inputs.alpha, self.inputs.bits)

    def report(self, pixels: np.ndarray, final: dict[str, float] | None) -> dict[str, Any]:
        """The report of the run; ``final`` is None for a run that stopped early."""
        workers = {} if self.tile_workers is None else {"workers": self.tile_workers.stats.as_dict()}
        return {
            **workers,
            "params": params(self.options, self.inputs.content, self.inputs.styles, pixels.shape),
            "history": self.history,
            "final": final,
            "steps_per_scale": self.plan.steps_per_scale,
            "sizes": self.sizes_done,
            "wall_s": round(plan.clock() - self.started, 3),
        }

    def checkpoint(self, state: Callable[[], dict[str, np.ndarray]], optimizer: str) -> None:
        checkpoint = Checkpoint(state(), list(self.plan.steps_per_scale), list(self.history), optimizer)
        save_checkpoint(self.options.checkpoint, checkpoint)


class _NotFinite(Exception):
    def __init__(self, step: int, value: float) -> None:
        self.step, self.value = step, value


def _apply(shown: Callable[[np.ndarray], np.ndarray], current: Callable[[], np.ndarray]) -> np.ndarray:
    return shown(current())
