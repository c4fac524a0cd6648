"""How many steps each size of the ladder takes: fixed counts, or shares of a time budget; and
the run's progress after each step, with the time left as the run measures its steps
(:mod:`nst.run.progress`). No TensorFlow here."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nst.options import Options
from nst.run.progress import PRIOR_SECONDS_PER_PIXEL, PRIOR_SIZE_OVERHEAD_S, Progress

# The clock of elapsed times and of time budgets, read as plan.clock() wherever the run reads the
# time (the tests plan budgets with a fake one).
clock = time.perf_counter


class Plan:
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
        self.seconds_per_pixel = PRIOR_SECONDS_PER_PIXEL
        self.scale_overhead = PRIOR_SIZE_OVERHEAD_S
        self.started = started
        self.time_budget = options.time_budget
        self.scale_began = started

    def begin_scale(self) -> None:
        """Called before a scale's targets are computed."""
        self.scale_began = clock()
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
        self._plan_scale_deadline(clock())
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
        now = clock()
        if self.steps_per_scale[self.index] == 0:
            # The first step also compiles: start it if it fits at all, or the targets were for nothing.
            return now + self.scale_overhead / 2 + self._step_cost(self.pixels) <= self.deadline - self.reserve
        return now + self._step_cost(self.pixels) <= self.scale_deadline

    def record_step(self) -> int:
        """Called after each step; measures the costs under a budget."""
        now = clock()
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
            return max(0.0, self.deadline - clock())
        left = max(0, self.planned[self.index] - self.steps_per_scale[self.index]) * self._step_cost(self.pixels)
        later = zip(self.planned[self.index + 1 :], self.work[self.index + 1 :], strict=True)
        left += sum(steps * self._step_cost(pixels) + self.scale_overhead for steps, pixels in later)
        return left + 0.4 * self._step_cost(self.work[-1])  # and the final evaluation, a forward pass

    def total_steps(self) -> int:
        if self.deadline is None:
            return sum(self.planned)
        remaining = max(0.0, self.deadline - clock())
        return self.steps_done + round(remaining / self._step_cost(self.pixels))

    def progress(self, losses: dict[str, float], image: Callable[[], Any]) -> Progress:
        """Where the run is after a step (:meth:`record_step`): its steps, size, elapsed time and
        time left, for the progress callback."""
        return Progress(
            self.steps_done, self.total_steps(), clock() - self.started, losses, self.index + 1, len(self.sizes),
            self.time_budget, image, self.remaining_s(), self.sizes[self.index],
        )  # fmt: skip
