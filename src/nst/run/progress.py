"""One progress model: where a run is (its step, the size of the ladder at work, a clip's frame,
a batch's item), how long it has taken and the time left, all computed here or by the run's plan
(:class:`nst.run.plan.Plan`, from the measured cost of its steps). The terminal's bars, the web
page, video and batch read these objects; none of them computes a time left of its own, so the
browser and the terminal show the same one. No TensorFlow here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# What a run is planned with until it has measured its own: seconds per pixel of one step on a
# 2-core CPU (measured: 6.9e-6 at 128 px, 5.5e-6 at 512 px), and seconds to set up a size of the
# ladder (targets, compiling the step). A clip's estimate before it starts uses them too.
PRIOR_SECONDS_PER_PIXEL = 7e-6
PRIOR_SIZE_OVERHEAD_S = 1.0


@dataclass
class Progress:
    """What the run tells its callback after each step.

    ``losses`` were measured on the image the step started from, at the current size;
    :meth:`image` returns the image after the step, computed only when asked for. ``scale`` is
    the size of the ladder at work (from 1) of ``scales``, ``size`` its longer side in px.
    ``remaining_s`` is the time left as the run's plan measures it (under a time budget, the
    budget's rest); under a budget ``steps`` is an estimate and ``time_budget_s`` is set."""

    step: int
    steps: int
    elapsed_s: float
    losses: dict[str, float]
    scale: int
    scales: int
    time_budget_s: float | None
    _image: Callable[[], np.ndarray] = field(repr=False)
    remaining_s: float | None = None
    size: int | None = None

    def image(self) -> np.ndarray:
        """The current image, (H, W, 3) float32 in [0, 1]."""
        return self._image()


ProgressCallback = Callable[[Progress], None]
# Called as each tile pass of a step on a print's tiled size is done: (size from 1, passes done, passes).
TileCallback = Callable[[int, int, int], None]


def left_now(remaining_s: float | None, measured_at: float, now: float) -> float | None:
    """The time left at ``now`` by an estimate made at ``measured_at`` (a step's
    :attr:`Progress.remaining_s`): a step at a print's size takes minutes, and between two the
    bar and the page count the estimate down as its tiles go by."""
    return None if remaining_s is None else max(0.0, remaining_s - (now - measured_at))


@dataclass
class VideoProgress:
    """What :func:`nst.stylize_video` tells its callback after each step of each frame: the frame
    (1-based) of how many, the step's :class:`Progress` within that frame, the time since the
    call began and the time left for the clip (None until a frame has been timed)."""

    frame: int
    frames: int
    step: Progress
    elapsed_s: float
    remaining_s: float | None

    @property
    def losses(self) -> dict[str, float]:
        return self.step.losses

    def image(self) -> np.ndarray:
        """The current frame's picture so far, (H, W, 3) float32 in [0, 1]."""
        return self.step.image()


class FrameClock:
    """Times a clip's frames for its time left: the frame at work by its own plan, the frames after
    it at the pace of the later frames timed so far (the first, from its photo, takes longer)."""

    def __init__(
        self, frames: int, clock: Callable[[], float] = time.perf_counter, started: float | None = None
    ) -> None:
        self.frames, self.index, self.clock = frames, 0, clock
        self.began = clock()
        self.started = self.began if started is None else started  # when the call began, for the elapsed time
        self.durations: list[float] = []

    def frame_begins(self, index: int) -> None:
        self.index, self.began = index, self.clock()

    def frame_ends(self) -> float:
        """The frame's seconds."""
        self.durations.append(self.clock() - self.began)
        return self.durations[-1]

    def progress(self, step: Progress) -> VideoProgress:
        """Where the clip is, a step of its current frame taken."""
        return VideoProgress(self.index + 1, self.frames, step, self.clock() - self.started, self.remaining_s(step))

    def remaining_s(self, step: Progress) -> float | None:
        if not self.durations:
            return None
        pace = self.durations[1:] or self.durations
        per_frame = sum(pace) / len(pace)
        this_frame = step.remaining_s
        if this_frame is None:
            this_frame = max(0.0, per_frame - (self.clock() - self.began))
        return this_frame + per_frame * (self.frames - self.index - 1)


@dataclass
class BatchProgress:
    """What a batch tells its callback: once when it starts (``outcome`` None), then after each
    item, skipped ones included. ``outcome``: the item's :class:`nst.run.batch.Outcome`.
    ``remaining_s``: the time left for the items still to make (None until one is made)."""

    done: int
    total: int
    outcome: Any = None
    workers: int = 0
    elapsed_s: float = 0.0
    remaining_s: float | None = None


class ItemClock:
    """Times a batch's items for its time left: the items still to make at the mean measured
    seconds of those made, shared by the workers."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock, self.started = clock, clock()
        self.seconds: list[float] = []

    def progress(self, done: int, total: int, outcome: Any, workers: int) -> BatchProgress:
        """Where the batch is after ``done`` of ``total`` items; an outcome with ``seconds`` is an
        item a worker made (or failed), whose time counts."""
        if outcome is not None and getattr(outcome, "seconds", None) is not None:
            self.seconds.append(outcome.seconds)
        remaining = None
        if self.seconds and workers:  # the items left run in rounds of one per worker
            remaining = sum(self.seconds) / len(self.seconds) * math.ceil((total - done) / workers)
        return BatchProgress(done, total, outcome, workers, self.clock() - self.started, remaining)


def duration(seconds: float) -> str:
    """The one way nst writes a duration, in the terminal and in its messages (the web page's
    app.js writes it the same way): 45 s, 3 min 05 s, 2 h 10 min."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
