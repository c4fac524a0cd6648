"""How many steps each size of the ladder takes: fixed counts, or shares of a time budget; which
sizes a budget cannot finish, and so drops; and the run's progress after each step, with the time
left as the run measures its steps (:mod:`nst.run.progress`). No TensorFlow here."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from nst.options import Options
from nst.run import ladder
from nst.run.progress import PRIOR_SECONDS_PER_PIXEL, PRIOR_SIZE_OVERHEAD_S, Progress

# A size's targets are a forward pass over its photo: about a third of a step, 0.4 to be safe;
# so is the final evaluation.
_FORWARD_SHARE = 0.4
# The fewest steps a size started from the smaller size's picture enlarged must get, or it is
# dropped. A bicubic enlargement's lattice took a dozen steps to fade (docs/print.md); the detail
# enlargement leaves none, but starts the size from the photo's own finer detail, which steps
# paint over: one or two (nst 0.2's budget gave prints that) leave it a photo's. 6 is a floor
# chosen, not measured; the painting ladder plans 10 to 14 at such sizes.
FEWEST_STEPS_AFTER_ENLARGING = 6
# The clock of elapsed times and of time budgets, read as plan.clock() wherever the run reads the
# time (the tests plan budgets with a fake one).
clock = time.perf_counter


class Plan:
    """How many steps each scale takes: fixed counts, or shares of a time budget.

    Under a budget, time is measured as the run goes: the cost of a step (per pixel, carried to
    the next scale) and the fixed cost of a scale (compiling its step; its targets are counted as
    a forward pass of its size). Every size after the first must get at least
    :data:`FEWEST_STEPS_AFTER_ENLARGING` steps; before each one starts, the plan keeps the sizes
    whose least steps fit in the time left (:meth:`drop_reason`), and a size that cannot be
    finished is dropped, never given a step or two. The sizes kept share the time as their
    planned steps (``coarse_steps`` or ``steps``) would cost, each getting at least its least
    steps, after the fixed costs of the later ones and the final evaluation are set aside. The
    share is planned again after every step, with the costs measured so far; a step starts only
    if it should end before its scale's deadline (before the budget's, while the scale has not
    had its least steps)."""

    def __init__(self, options: Options, sizes: list[int], started: float, work: list[float]) -> None:
        self.sizes = sizes
        self.work = work  # the pixels VGG19 goes through in a step of each size (tiles: more than the image's)
        self.planned = ladder.steps_per_size(options)
        self.deadline = None if options.time_budget is None else started + options.time_budget
        self.least = [1] + [FEWEST_STEPS_AFTER_ENLARGING] * (len(sizes) - 1)
        self.steps_done = 0
        self.steps_per_scale: list[int] = []
        self.dropped: dict[int, str] = {}  # the sizes the budget could not finish, and why
        self.seconds_per_pixel = PRIOR_SECONDS_PER_PIXEL
        self.scale_overhead = PRIOR_SIZE_OVERHEAD_S  # compiling: what a scale costs besides its steps and targets
        self.started = started
        self.time_budget = options.time_budget
        self.scale_began = self.scale_started = started
        self.compiled_in = 0.0  # this scale's compiling, measured
        self.index = 0
        self.pixels = work[0]
        self.reserve = 0.0  # the final evaluation's time, kept back from the budget

    @property
    def finished_size(self) -> int | None:
        """The index of the largest size run so far (None before the first)."""
        run = [index for index in range(len(self.steps_per_scale)) if index not in self.dropped]
        return run[-1] if run else None

    def drop_reason(self, index: int) -> str | None:
        """Called before a scale starts: None if it runs; else why it is dropped (the budget cannot
        give it its least steps). The first size always runs."""
        if self.deadline is None or self.finished_size is None:
            return None
        available = self.deadline - clock()
        if self._kept(range(index, len(self.sizes)), available):
            return None
        finished = self.sizes[self.finished_size]  # before this size counts as begun
        self.steps_per_scale.append(0)
        least = self._least_seconds(index) + self._final(index)
        self.dropped[index] = (
            f"its {self.least[index]} steps need about {least:.0f} s and {max(0.0, available):.0f} s are left:"
            f" the picture is the {finished} px one, enlarged"
        )
        return self.dropped[index]

    def begin_scale(self) -> None:
        """Called before a scale's targets are computed."""
        self.scale_began = clock()
        self.last_step_ended: float | None = None
        self.measured_here = False  # a step of this scale timed: later ones average with it

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
        self.scale_started = clock()
        self._plan_scale_deadline(self.scale_started)
        return self._time_allows

    def _kept(self, candidates: Sequence[int], available: float) -> list[int]:
        """Of the sizes ``candidates`` (in order), those that get their least steps in ``available``
        seconds, smallest first, with the final evaluation after the last: the ladder goes up
        while it can, and ends at the last size it can finish."""
        kept: list[int] = []
        for index in candidates:
            if self._least_seconds(index) + self._final(index) > available:
                break
            kept.append(index)
            available -= self._least_seconds(index)
        return kept

    def _least_seconds(self, index: int) -> float:
        """What a size not yet begun needs: its least steps, its targets and compiling."""
        return self.least[index] * self._step_cost(self.work[index]) + self._overhead(index)

    def _overhead(self, index: int) -> float:
        return self.scale_overhead + _FORWARD_SHARE * self._step_cost(self.work[index])

    def _final(self, index: int) -> float:
        """The final evaluation, if ``index`` is the last size run: a forward pass of it."""
        return _FORWARD_SHARE * self._step_cost(self.work[index])

    def _plan_scale_deadline(self, now: float) -> None:
        """This scale's deadline: its share of the time from its start, after the fixed costs of the
        later sizes that will run, each of them keeping room for its least steps, and never less
        than its own least steps. Planned from the scale's start, not from now, so that planning
        again with the same costs gives the same deadline, and changed costs move it."""
        index, done = self.index, self.steps_per_scale[self.index]
        cost = self._step_cost(self.pixels)
        # What is left of its least steps, and its compiling while its first step is to come.
        mine = max(0, self.least[index] - done) * cost + (self.scale_overhead if done == 0 else 0.0)
        later = self._kept(range(index + 1, len(self.sizes)), self.deadline - now - mine)
        self.reserve = self._final(later[-1] if later else index)
        origin = self.scale_started + (self.scale_overhead if done == 0 else self.compiled_in)
        available = self.deadline - self.reserve - origin - sum(self._overhead(each) for each in later)
        kept = [index, *later]
        work = {each: self.planned[each] * self._step_cost(self.work[each]) for each in kept}
        least = {each: self.least[each] * self._step_cost(self.work[each]) for each in kept}
        self.scale_deadline = origin + _water_filled(work, least, available)[index]

    def _step_cost(self, pixels: float) -> float:
        return self.seconds_per_pixel * pixels

    def _time_allows(self) -> bool:
        now = clock()
        done = self.steps_per_scale[self.index]
        if done == 0:
            # The first step also compiles: start it if it fits at all, or the targets were for nothing.
            return now + self.scale_overhead / 2 + self._step_cost(self.pixels) <= self.deadline - self.reserve
        if done < self.least[self.index]:  # a size begun gets its least steps, if the budget has them
            return now + self._step_cost(self.pixels) <= self.deadline - self.reserve
        return now + self._step_cost(self.pixels) <= self.scale_deadline

    def record_step(self) -> int:
        """Called after each step; measures the costs under a budget and plans the scale again."""
        now = clock()
        done = self.steps_per_scale[self.index]
        if self.last_step_ended is not None and done >= 1:
            measured = (now - self.last_step_ended) / self.pixels
            self.seconds_per_pixel = 0.8 * self.seconds_per_pixel + 0.2 * measured if self.measured_here else measured
            self.measured_here = True
        if done == 1 and self.last_step_ended is not None:  # (resumed after one step: not seen here)
            # Compiling: the first step's extra time over a normal one, seen on the second; and the
            # targets' over a forward pass, carried to the next scale with it.
            cost = self._step_cost(self.pixels)
            self.compiled_in = max(0.0, self.last_step_ended - self.scale_started - cost) if self.deadline else 0.0
            self.scale_overhead = max(0.0, self.last_step_ended - self.scale_began - (1 + _FORWARD_SHARE) * cost)
        self.last_step_ended = now
        self.steps_done += 1
        self.steps_per_scale[self.index] += 1
        if self.deadline is not None and done >= 1:
            self._plan_scale_deadline(now)  # with the costs measured so far (compiling is paid)
        return self.steps_done

    def remaining_s(self) -> float:
        """The time left: the steps planned at this size and the larger ones, or the budget's."""
        if self.deadline is not None:
            return max(0.0, self.deadline - clock())
        left = max(0, self.planned[self.index] - self.steps_per_scale[self.index]) * self._step_cost(self.pixels)
        later = zip(self.planned[self.index + 1 :], self.work[self.index + 1 :], strict=True)
        left += sum(steps * self._step_cost(pixels) + self.scale_overhead for steps, pixels in later)
        return left + self._final(len(self.work) - 1)

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


def _water_filled(work: dict[int, float], least: dict[int, float], available: float) -> dict[int, float]:
    """``available`` seconds shared in proportion to ``work``, each getting at least ``least``: the
    sizes whose share falls short get their least, and the others share the rest."""
    fixed: dict[int, float] = {}
    while True:
        free = [index for index in work if index not in fixed]
        rest = available - sum(fixed.values())
        total = sum(work[index] for index in free)
        shares = {index: rest * work[index] / total if total > 0 else rest / len(free) for index in free}
        short = [index for index in free if shares[index] < least[index]]
        if not short or len(short) == len(free):
            return {**fixed, **{index: max(shares[index], least[index]) for index in free}}
        fixed.update({index: least[index] for index in short})
