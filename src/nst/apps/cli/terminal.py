"""What the ``nst`` command shows at the terminal: the progress bars of a picture, a clip and a
batch (tqdm on stderr, with the run's own time left), where runs happen (:func:`device`), warnings
as one-line notes; and :class:`StopRequests`, which turns Ctrl-C and ``kill`` into a kept result."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from nst.media.images import NstWarning
from nst.options import Options
from nst.run import ladder
from nst.run.progress import BatchProgress, Progress, VideoProgress, duration, left_now


@contextlib.contextmanager
def _terminal_bar(enabled: bool, counted: str, **settings: Any) -> Iterator[Any]:
    """A tqdm bar on stderr of ``counted`` things ("steps", "frames"), that shows the run's own time
    left (in its postfix, nst.run.progress), not tqdm's guess."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    shape = f"{{l_bar}}{{bar}}| {{n_fmt}}/{{total_fmt}} {counted} [{{elapsed}}{{postfix}}]"
    with tqdm(dynamic_ncols=True, file=sys.stderr, bar_format=shape, **settings) as bar:
        yield bar


def _left(remaining_s: float | None) -> str:
    """The time left as the bars show it: the run's own estimate (nst.run.progress)."""
    return "" if remaining_s is None else f"{duration(remaining_s)} left"


def _joined(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


@contextlib.contextmanager
def video_progress(quiet: bool) -> Iterator[Callable[[Any], None] | None]:
    """A bar over the frames with the current frame's step and losses and the time left."""
    with _terminal_bar(not quiet and sys.stderr.isatty(), "frames") as bar:
        if bar is None:
            yield None
            return

        def update(progress: VideoProgress) -> None:
            bar.total = progress.frames
            losses = progress.losses
            temporal = f", temporal {losses['temporal']:.3g}" if "temporal" in losses else ""
            at = f"frame {progress.frame}/{progress.frames} step {progress.step.step}"
            shown = f"loss {losses['total']:.3g} (style {losses['style']:.3g}{temporal})"
            bar.set_postfix_str(_joined(f"{at}, {shown}", _left(progress.remaining_s)), refresh=False)
            bar.update(progress.frame - 1 - bar.n)

        yield update


@contextlib.contextmanager
def batch_progress(quiet: bool) -> Iterator[Callable[[Any], None] | None]:
    """A bar over the items with the time left (on a terminal), and a line for each item."""
    with _terminal_bar(not quiet, "pictures", disable=not sys.stderr.isatty()) as bar:
        if bar is None:
            yield None
            return

        def update(progress: BatchProgress) -> None:
            bar.total = progress.total
            if progress.outcome is None:
                to_make = count(progress.total - progress.done, "picture")
                bar.write(f"nst batch: {to_make} to make on {count(progress.workers, 'worker')}", file=sys.stderr)
            else:
                bar.write(_item_line(progress.outcome), file=sys.stderr)
            bar.set_postfix_str(_left(progress.remaining_s), refresh=False)
            bar.update(progress.done - bar.n)

        yield update


def count(number: int, thing: str) -> str:
    """``number`` of ``thing``, plural but for one: "1 worker", "3 workers"."""
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _item_line(outcome) -> str:
    painting = " + ".join(outcome.painting) if isinstance(outcome.painting, list) else outcome.painting
    if outcome.status == "failed":
        return f"failed  {outcome.input} with {painting}: {outcome.error}"
    seconds = f" ({duration(outcome.seconds)})" if outcome.seconds is not None else ""
    return f"{outcome.status:<7} {outcome.output}{seconds}"


@contextlib.contextmanager
def progress_bar(options: Options, enabled: bool, on: str = "") -> Iterator[ProgressBar | None]:
    """A bar of steps, or of seconds under a time budget or over several sizes (whose steps
    differ in cost), with the losses, the size and tile at work, and the time left."""
    in_seconds = options.time_budget is not None or len(ladder.scale_sizes(options)) > 1
    # Over several sizes, the seconds they take are known once the first steps are measured.
    total = round(options.time_budget) if options.time_budget else None if in_seconds else ladder.output_steps(options)
    with _terminal_bar(enabled, "s" if in_seconds else "steps", total=total) as bar:
        yield None if bar is None else ProgressBar(bar, in_seconds, ladder.scale_sizes(options), lambda: device() + on)


def device() -> str:
    """Where runs happen, as the progress bar and the web page say it: "CPU", "GPU (NVIDIA H200)";
    and the backend unless it is TensorFlow."""
    from nst.core import backend

    name = backend.name()
    return backend.device() + ("" if name == "tensorflow" else f", {name}")


class ProgressBar:
    """The terminal's bar of a picture's run, moved by its :class:`Progress` after each step and
    by its tiles (a step at a print's size is long); the time left is the progress's own."""

    def __init__(self, bar: Any, in_seconds: bool, sizes: list[int], device: Callable[[], str] = device) -> None:
        self.bar, self.in_seconds, self.sizes, self.device = bar, in_seconds, sizes, device
        self.started = time.monotonic()
        self.losses = self.left = ""
        self.remaining_s, self.measured_at = None, self.started  # the last step's estimate of the time left

    def __call__(self, progress: Progress) -> None:
        self.describe()
        losses = progress.losses
        self.losses = f"loss {losses['total']:.3g} (content {losses['content']:.3g}, style {losses['style']:.3g})"
        self.remaining_s, self.measured_at = progress.remaining_s, time.monotonic()
        self.left = _left(progress.remaining_s)
        self.show(progress.scale, "")
        if self.in_seconds:
            self.bar.total = max(self.bar.n, round(progress.elapsed_s + (progress.remaining_s or 0.0)))
            self.bar.update(round(progress.elapsed_s) - self.bar.n)
        else:
            self.bar.update(progress.step - self.bar.n)

    def tile(self, size: int, done: int, tiles: int) -> None:
        """A tile of a step is done: a step at a print's size is long, so the bar moves with its tiles."""
        self.describe()
        self.left = _left(left_now(self.remaining_s, self.measured_at, time.monotonic()))
        self.show(size, f"tile pass {done}/{tiles}")
        if self.in_seconds and self.bar.total:
            self.bar.update(min(self.bar.total, round(time.monotonic() - self.started)) - self.bar.n)
        else:
            self.bar.refresh()

    def describe(self) -> None:
        if not self.bar.desc:
            self.bar.set_description_str(self.device(), refresh=False)

    def show(self, size: int, tile: str) -> None:
        at = f"{self.sizes[size - 1]} px ({size}/{len(self.sizes)})" if len(self.sizes) > 1 else ""
        self.bar.set_postfix_str(_joined(at, tile, self.losses, self.left), refresh=False)


class StopRequests:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt, and are remembered.

    A signal that arrives while Python runs a finalizer or a garbage-collector callback (JAX, which
    TensorFlow imports when it is installed, registers one) has its KeyboardInterrupt swallowed:
    Python only prints "Exception ignored". ``check``, called after every step, raises it again, and
    the swallowed one is not printed.
    """

    def __init__(self) -> None:
        self.requested = False

    def __enter__(self) -> StopRequests:
        self.previous = {number: signal.signal(number, self.handle) for number in (signal.SIGINT, signal.SIGTERM)}
        self.previous_hook, sys.unraisablehook = sys.unraisablehook, self.unraisable
        return self

    def __exit__(self, *exception: object) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        sys.unraisablehook = self.previous_hook

    def handle(self, number: int, frame: object) -> None:
        self.requested = True
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt

    def unraisable(self, unraisable: Any) -> None:
        if not (self.requested and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            self.previous_hook(unraisable)


def show_note(message, category, *args: Any, **kwargs: Any) -> None:
    """Warnings meant for the user (NstWarning) as one line; others stay hidden unless NST_DEBUG."""
    if issubclass(category, NstWarning) or os.environ.get("NST_DEBUG"):
        print(f"nst: note: {message}", file=sys.stderr)
